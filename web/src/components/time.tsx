import { absoluteTime, relativeTime } from '../format.ts';

interface Props {
  value: string | null | undefined;
  /** What to show when there is no time. */
  empty: string;
}

/** A relative time with the absolute one as its title, in the viewer's locale. */
export function Time({ value, empty }: Props) {
  if (!value) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={value} title={absoluteTime(value)}>
      {relativeTime(value)}
    </time>
  );
}
