/** chat-server --help: every option, its default and its limits. */
import { DEFAULT_CONGESTION } from '../../common/lftp/engine/congestion.js';
import { DEFAULT_FLOOD } from '../../common/flood-gate.js';
import { LOG_LEVELS } from '../logger.js';
import { MAX_CAPACITY } from '../shm/session-table.js';
import { MAX_WORKERS } from '../shm/worker-stats.js';
import { MAX_ADMIN_TOKEN_LENGTH, MIN_ADMIN_TOKEN_LENGTH } from '../web/admin-auth.js';
import { DEFAULT_BACKLOG_FRAMES } from '../chat/inbound-gate.js';
import { DEFAULT_ADMISSION } from '../chat/admission.js';
import { DEFAULT_ROOM_LIMITS } from '../store/store-quotas.js';

export const SERVER_USAGE = `Usage: chat-server [options]

A TCP chat server: clients spread over worker threads, a shared session table,
heartbeats that drop silent clients, and an operator console on stdin.

Options:
  --host ADDR                 address to listen on (default 0.0.0.0)
  --port N                    TCP port, 0 picks a free one (default 9000)
  --workers N                 worker threads, 1-${MAX_WORKERS} (default: number of cores)
  --heartbeat-interval DUR    time between heartbeats, at least 100ms (default 5s)
  --heartbeat-timeout DUR     drop a client whose answer is this late (default 15s)
  --max-clients N             sessions at once, 1-${MAX_CAPACITY} (default 10000)
  --max-frame SIZE            largest frame body accepted (default 64KiB)
  --max-sendq SIZE            output that may wait for one client before it is dropped
                              (default 256KiB, and at least twice --max-frame)
  --max-output SIZE           output that may wait for all clients together; past it the
                              slowest readers are dropped first (default 512MiB)
  --flood-burst N             flood control: credits a session may spend at once; a message
                              costs 1 (+1 per 4KiB), /who and /files 2, /nick 5 (default ${DEFAULT_FLOOD.burst})
  --flood-rate N              credits earned back per second; beyond them commands wait
                              (default ${DEFAULT_FLOOD.perSecond})
  --flood-backlog N           commands that may wait; one more and the client is dropped
                              with FLOOD (default ${DEFAULT_BACKLOG_FRAMES})
  --max-sessions-per-address N  chat sessions from one address (default ${DEFAULT_ADMISSION.maxSessionsPerAddress})
  --max-pending-per-address N   chat connections from one address that have not said HELLO
                              (default ${DEFAULT_ADMISSION.maxPendingPerAddress})
  --max-http-per-address N    HTTP connections to the web port from one address (default ${DEFAULT_ADMISSION.maxHttpPerAddress})
  --trusted LIST              addresses exempt from the per-address limits: comma-separated
                              addresses, subnets (10.0.0.0/8) and "loopback" (default: none)
  --files DIR                 files shared over LFTP (default ./files, created if missing)
  --lftp-port N               UDP port for LFTP (default: the TCP port's number)
  --max-transfers N           LFTP transfers at once per worker; more wait in a queue (default 4)
  --qlog DIR                  each LFTP transfer as a qlog file in DIR (chat-client trace report)
  --max-file-size SIZE        largest upload accepted (default 16GiB)
  --max-upload-per-user SIZE  bytes one nick may upload while the server runs (default 8GiB)
  --keep-free SIZE            free space uploads must leave on the disk (default 256MiB)
  --cc NAME                   LFTP congestion control for downloads: bbr (BBRv3, paced: a model of
                              the path; holds up under random loss) or reno (loss halves the
                              window) (default ${DEFAULT_CONGESTION})
  --http-port N               web chat page and WebSocket port (default: the TCP port + 1)
  --no-web                    no web side at all
  --irc-port N                the IRC door: IRC clients (irssi, WeeChat, HexChat, bots) in the
                              same rooms (default 6697, 6667 with --no-tls; with --port 0 a free one)
  --no-irc                    no IRC door
  --irc-nicks utf8|ascii      how IRC clients see nicks: as they are (utf8, the default), or
                              RFC 2812 ones as they are and the rest as xn-- (ascii; docs/IRC.md)
  --web-host LIST             more host names the web side answers to (comma-separated);
                              it always answers to its addresses, localhost and the host name
  --web-header-timeout DUR    a web connection that has not sent its first request's headers this
                              long after connecting (after TLS: after the handshake), or a later
                              request's after its first byte, is closed; one that sends nothing
                              too (default 10s, 1s-10m)
  --admin-token TOKEN         enable the operator dashboard at /admin (${MIN_ADMIN_TOKEN_LENGTH}-${MAX_ADMIN_TOKEN_LENGTH} printable
                              characters; or set CHAT_ADMIN_TOKEN, which ps cannot show)
  --log-file PATH             JSON log file (default logs/server.log)
  --log-level LEVEL           ${LOG_LEVELS.join(', ')} (default info)
  --log-max-size SIZE         rotate the log past this size: FILE.1, FILE.2, … (default 16MiB)
  --log-keep N                rotated logs kept, 0-100 (default 5)
  --tls auto                  TLS on the chat and web ports with a certificate made on first start
                              and kept in the data folder (the default); its SHA-256 is printed
  --tls-cert FILE --tls-key FILE   TLS with your certificate and key (PEM)
  --no-tls                    plain TCP and HTTP: anyone on the network can read the chat
  --keylog FILE               write TLS secrets to FILE (SSLKEYLOGFILE: Wireshark decrypts with it)
  --tls-handshake-timeout DUR  a connection to the chat or web port that has not finished its
                              TLS handshake by then is closed, and its place freed (default 10s)
  --server-password PASS      a private server: every client must give it (or set CHAT_SERVER_PASSWORD)
  --allow-plain-passwords     accept passwords over plain TCP (--no-tls), readable on the way
  --default-room NAME         the room everyone joins at login (default #lobby)
  --max-rooms N               rooms with members at once (default 1000)
  --max-rooms-per-user N      rooms one user may be in (default 20)
  --max-room-members N        members one room may have (default 10000)
  --max-rooms-per-prefix N    rooms that sessions from one address prefix (an IPv4 /24, an IPv6 /64)
                              have made and that still exist (default ${DEFAULT_ROOM_LIMITS.maxRoomsPerPrefix})
  --max-rooms-per-account N   the same for a registered nick, counted instead while it is
                              identified (default ${DEFAULT_ROOM_LIMITS.maxRoomsPerAccount})
  --room-grace DUR            a room whose members are all away is closed after this; they get
                              it back when they resume (default ${DEFAULT_ROOM_LIMITS.roomGraceMs / 1000}s)
  --max-registrations-per-prefix N  nicks registered from one address prefix in an hour
                              (default ${DEFAULT_ROOM_LIMITS.maxRegistrationsPerPrefix})
  --max-inbox-conversations N   an offline registered nick's inbox: people whose direct messages
                              wait for it; past it they are refused, INBOX_FULL (default ${DEFAULT_ROOM_LIMITS.maxInboxConversations})
  --max-inbox-size SIZE       the same in bytes of text (default ${DEFAULT_ROOM_LIMITS.maxInboxBytes / 1024}KiB)
  --history-on-join N         messages a client gets on joining a room, 0-200 (default 50)
  --resume-window DUR         how long a session whose connection was lost is kept for it to
                              resume (default 2m, at most 1d)
  --node-id ID                this node's id in session addresses, 1-16 letters, digits or '-'
                              (default n1; a cluster gives each node its own)
  --redis URL                 join a cluster of nodes sharing this Redis: redis://[user:pass@]HOST:PORT[/DB],
                              rediss:// for TLS, or redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER[/DB]
                              to follow a Sentinel failover (also CHAT_REDIS_URL; needs --node-id)
  --node-lease DUR            a node that stops renewing its lease (killed, cut off) is thought gone
                              after this: its users are away, to resume on any node (default 10s)
  --advertise HOST            the address other machines reach this node at: tickets for its files
                              point there (default --host if it names one, else this machine's
                              first LAN IPv4 address)
  --data DIR                  where the history is kept (default ./data, created if missing)
  --no-history                keep no history: messages are numbered, nothing is written
  --history-max-age DUR       messages older than this are removed (default 30d)
  --history-max-size SIZE     the history is kept under this size: whoever has stored the most
                              (an address prefix, or a registered nick) loses its oldest first
                              (default 1GiB)
  -h, --help                  show this help
  -v, --version               show the version

Durations: 500ms, 5s, 1m, 2h, 30d. Sizes: 65536, 64KiB, 1MiB.
Operator console (stdin): a plain line is broadcast; /help lists the commands.
File transfer without the chat: chat-server lftp --help`;
