/** Why the server could not start (a port taken, a folder it cannot create, too few descriptors): printed, exit 1. */
export class StartupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}
