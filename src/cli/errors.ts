/** A command line the operator got wrong: said in one line, with the usage. */
export class UsageError extends Error {}

/** A failure to start that the operator can fix, said in one line. */
export class StartupError extends Error {}
