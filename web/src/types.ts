/** The shapes the console's operations read, from the generated types. */
import type { ConsoleEntryFragment, ConsoleViewerQuery, TokenRowFragment } from './generated/graphql.ts';

export type Viewer = ConsoleViewerQuery['viewer'];
export type TokenRow = TokenRowFragment;
export type Entry = ConsoleEntryFragment;
