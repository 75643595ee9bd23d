/**
 * Where the cluster keeps what every node shares, under one prefix (`hc:` by
 * default), so that several clusters may share one Redis database:
 *   {p}s          hash  session key -> the session's record (JSON, session-records.ts)
 *   {p}f, {p}l    hash  a nick's fold key, look key (hex) -> the session key holding it
 *   {p}t          hash  a resume token's hash (hex) -> session key ("!" + key: spent)
 *   {p}n:NODE     set   the session keys on that node
 *   {p}nodes      set   the nodes that have registered sessions
 *   {p}lease:NODE string, with an expiry: the node is alive while it exists
 *   {p}generation string: the format generation the live nodes run (generation.ts; presence-scripts.ts RENEW)
 *   {p}addr:NODE  hash, expiring with the lease: its connected sessions by address (address-counts.ts)
 *   {p}secret:NAME string: a shared secret (process/redis-secrets.ts)
 *   {p}bus        stream: the posts between nodes (cluster-bus.ts)
 *   {p}dir        hash  session key -> its rooms and marks (the room directory, directory-scripts.ts)
 *   {p}topics     hash  room key -> [name, topic]
 *   {p}h:CONV     stream: a conversation's log, entry ids its message ids; {p}ids, {p}ids:ts, {p}bytes, {p}epoch
 *                 its next ids, last times, bytes kept, epoch (store/room-log-scripts.ts)
 *   {p}heads      sorted set: conversations keeping entries, by their first's time; {p}heads:placed, {p}pruning
 *                 (store/redis-retention.ts)
 *   {p}dms:NICK   set   the direct conversations a nick (folded) took part in (store/room-log-scripts.ts)
 *   {p}files:NODE, {p}tk:TICKET   a node's files, a ticket for them (cluster-files.ts, cluster-tickets.ts)
 *   {p}th:s:SESSION, {p}th:p:PREFIX   sorted sets: the tickets a session, a network holds (cluster-tickets.ts)
 *   {p}up:NODE    hash  folded nick -> the bytes of its uploads that node holds (cluster-uploads.ts)
 *   {p}reg:PREFIX sorted set: the registrations from an address prefix this hour (store/redis-registrations.ts)
 *   {p}turn:RUN   string: a node's last appended turn, its token and answer (store/room-log-scripts.ts APPEND)
 *   {p}irc:NODE   hash  session key -> an IRC session's ident, real name, account, AWAY (irc-door/cluster-people.ts)
 * A session key is `node/slot:generation` (bus/node-id.ts sessionKey).
 * The scripts touch the per-node keys by name (not declared in KEYS): fine on
 * one Redis and under Sentinel, not on Redis Cluster, which this does not use.
 */
export interface ClusterKeys {
  prefix: string;
  sessions: string;
  folds: string;
  looks: string;
  tokens: string;
  nodes: string;
  directory: string;
  topics: string;
  nodeSessions(node: string): string;
  lease(node: string): string;
}

export const DEFAULT_PREFIX = 'hc:';

export function clusterKeys(prefix = DEFAULT_PREFIX): ClusterKeys {
  return {
    prefix,
    sessions: `${prefix}s`,
    folds: `${prefix}f`,
    looks: `${prefix}l`,
    tokens: `${prefix}t`,
    nodes: `${prefix}nodes`,
    directory: `${prefix}dir`,
    topics: `${prefix}topics`,
    nodeSessions: (node) => `${prefix}n:${node}`,
    lease: (node) => `${prefix}lease:${node}`,
  };
}

/** The KEYS every session script is given, in this order (nick-scripts.ts names them S, F, L, T). */
export function sessionScriptKeys(k: ClusterKeys): string[] {
  return [k.sessions, k.folds, k.looks, k.tokens];
}
