/** The token in `Authorization: Bearer <token>` or djblets' `Authorization: token <token>`; null when absent or another scheme. */
export function presentedToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(authorization.trim());
  return match?.[1] ?? null;
}
