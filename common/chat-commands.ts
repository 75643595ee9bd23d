/**
 * The slash commands both chat clients know, in one list so that the
 * terminal and the page complete the same words with Tab; each client adds
 * what only it has (the terminal's /post, /sleep and /transfers).
 */
export const CHAT_COMMANDS: readonly string[] = [
  '/files',
  '/get',
  '/help',
  '/history',
  '/identify',
  '/join',
  '/me',
  '/msg',
  '/names',
  '/nick',
  '/part',
  '/password',
  '/quit',
  '/register',
  '/room',
  '/rooms',
  '/topic',
  '/who',
];
