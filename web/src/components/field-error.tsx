interface Props {
  id: string;
  message: string | undefined;
}

/** A field's typed error, right under it; the field points at it with aria-describedby. */
export function FieldError({ id, message }: Props) {
  if (!message) return null;
  return (
    <p id={id} class="error field-error">
      {message}
    </p>
  );
}
