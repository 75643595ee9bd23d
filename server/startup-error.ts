import { HeartbeatChatError } from '../common/errors.js';

/** Why the server could not start (a port taken, a folder it cannot create, too few descriptors): printed, exit 1. */
export class StartupError extends HeartbeatChatError {}
