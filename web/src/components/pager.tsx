interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor?: string | null;
  endCursor?: string | null;
}

/** Which page to read: after a cursor (forward), before one (backward), or the first ({}). */
export interface PageRequest {
  after?: string;
  before?: string;
}

interface Props {
  pageInfo: PageInfo;
  onPage(page: PageRequest): void;
  /** The button toward the list's end (its next page), and toward its start. */
  olderLabel: string;
  newerLabel: string;
}

export function Pager({ pageInfo, onPage, olderLabel, newerLabel }: Props) {
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        class="secondary"
        disabled={!pageInfo.hasPreviousPage || !pageInfo.startCursor}
        onClick={() => onPage(pageInfo.startCursor ? { before: pageInfo.startCursor } : {})}
      >
        {newerLabel}
      </button>
      <button
        type="button"
        class="secondary"
        disabled={!pageInfo.hasNextPage || !pageInfo.endCursor}
        onClick={() => onPage(pageInfo.endCursor ? { after: pageInfo.endCursor } : {})}
      >
        {olderLabel}
      </button>
    </nav>
  );
}
