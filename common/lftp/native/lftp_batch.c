/*
 * LFTP's batched datagram path (docs/LFTP.md, "Batched datagrams"): one UDP
 * socket owned here, read with recvmmsg (and UDP_GRO: the kernel hands over a
 * train of equal datagrams as one buffer) and written with sendmmsg (and
 * UDP_SEGMENT: a train of equal datagrams to one peer goes down the stack as
 * one), and AES-128-GCM with one OpenSSL context per traffic key, reused for
 * every datagram (only the nonce changes). Node's dgram and node:crypto cost a
 * system call and a cipher object per datagram; this costs one of each per
 * batch. Same wire format as the TypeScript code (protect/sealed-packet.ts):
 * nonce = iv XOR packet number (bytes 20-23 of the header) in iv's last 4
 * bytes, additional data = the clear header [and prefix], tag last.
 *
 * IPv4 and IPv6 (a socket of either family; one bound to "::" takes IPv4 peers
 * too, as ::ffff:a.b.c.d, as dgram's udp6 does). Addresses cross to JS as four
 * 32-bit words, big-endian (IPv4: the first word only).
 *
 * Linux only (sendmmsg, GSO, GRO); every other machine, or a build that failed,
 * uses dgram and node:crypto (common/lftp/native/load.ts).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <node_api.h>
#include <uv.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define TAG 16
#define MAX_MSGS 64         /* messages per sendmmsg */
#define RX_MSGS 32          /* messages per recvmmsg */
#define MAX_SEGS 64         /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_MAX 65000       /* a GSO message's bytes: under IPv4's 65,507 */
#define RX_BYTES 65536      /* one received message (a GRO train is at most 64 KiB) */
#define TX_BYTES (1 << 20)  /* the send scratch: sendmmsg'd whenever it fills */
#define RX_ROUNDS 8         /* recvmmsg calls per readable event: then timers and others get a turn */
#define PROBE_FLAG 0x100    /* in a datagram's meta parts word: a size probe, sent with the don't-fragment bit */
#define TX_META 7           /* words per datagram sent: parts|flags, port, key, address (4) */
#define RX_META 7           /* words per datagram received: offset, length, port, address (4) */

typedef union {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} addr_t;

typedef struct pending {
  struct pending *next;
  addr_t to;
  int has_to;
  uint16_t seg;
  size_t len;
  uint8_t data[];
} pending_t;

typedef struct {
  uv_poll_t poll;
  int fd, family, gso, gro, df, pmtudisc, connected, closed, events;
  napi_env env;
  napi_ref on_recv, on_error, meta_ref;
  napi_async_context actx;
  napi_async_cleanup_hook_handle cleanup;
  uint32_t *meta; /* per datagram received: RX_META words */
  uint8_t *rx;    /* RX_MSGS × RX_BYTES */
  uint8_t *tx;    /* TX_BYTES */
  pending_t *head, *tail;
  size_t npending;
  /* the messages being built for one sendmmsg */
  struct mmsghdr msgs[MAX_MSGS];
  struct iovec iov[MAX_MSGS];
  addr_t to[MAX_MSGS];
  char ctl[MAX_MSGS][CMSG_SPACE(sizeof(uint16_t))];
  uint16_t seg[MAX_MSGS], nseg[MAX_MSGS];
  int nmsgs;
  size_t used;
} sock_t;

typedef struct {
  EVP_CIPHER_CTX *enc, *dec;
  uint8_t key[16], iv[12];
} key_t_;

#define CHECK(call)                                 \
  do {                                              \
    if ((call) != napi_ok) return throw_last(env);  \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "LFTP_NATIVE", info && info->error_message ? info->error_message : "N-API call failed");
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  napi_create_string_utf8(env, "LFTP_NATIVE", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  napi_value en;
  napi_create_int32(env, err, &en);
  napi_set_named_property(env, e, "errno", en);
  napi_throw(env, e);
  return NULL;
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static socklen_t addr_len(const sock_t *s) {
  return s->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The socket's family's address from four big-endian words (IPv4: the first) and a port. */
static void addr_from_words(const sock_t *s, const uint32_t *w, uint32_t port, addr_t *a) {
  memset(a, 0, sizeof *a);
  if (s->family == AF_INET6) {
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons((uint16_t)port);
    for (int i = 0; i < 4; i++) {
      uint32_t be = htonl(w[i]);
      memcpy(a->v6.sin6_addr.s6_addr + 4 * i, &be, 4);
    }
  } else {
    a->v4.sin_family = AF_INET;
    a->v4.sin_port = htons((uint16_t)port);
    a->v4.sin_addr.s_addr = htonl(w[0]);
  }
}

/* An address as four words and its port (what addr_from_words takes). */
static uint32_t addr_to_words(const addr_t *a, uint32_t *w) {
  if (a->sa.sa_family == AF_INET6) {
    for (int i = 0; i < 4; i++) {
      uint32_t be;
      memcpy(&be, a->v6.sin6_addr.s6_addr + 4 * i, 4);
      w[i] = ntohl(be);
    }
    return ntohs(a->v6.sin6_port);
  }
  w[0] = ntohl(a->v4.sin_addr.s_addr), w[1] = w[2] = w[3] = 0;
  return ntohs(a->v4.sin_port);
}

static int same_addr(const sock_t *s, const addr_t *a, const addr_t *b) {
  if (s->family == AF_INET6)
    return a->v6.sin6_port == b->v6.sin6_port && memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
  return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr && a->v4.sin_port == b->v4.sin_port;
}

static void *external(napi_env env, napi_value v) {
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

/* ---------------------------------------------------------------- keys */

static void nonce_for(const key_t_ *k, const uint8_t *header, uint8_t out[12]) {
  memcpy(out, k->iv, 12);
  for (int i = 0; i < 4; i++) out[8 + i] ^= header[20 + i];
}

/* out gets len ciphertext bytes then the tag; aad starts with the 24-byte header. */
static int seal_into(key_t_ *k, const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out) {
  uint8_t nonce[12];
  int n = 0;
  nonce_for(k, aad, nonce);
  if (!k->enc) {
    k->enc = EVP_CIPHER_CTX_new();
    if (!k->enc || EVP_EncryptInit_ex(k->enc, EVP_aes_128_gcm(), NULL, k->key, NULL) != 1) return 0;
  }
  if (EVP_EncryptInit_ex(k->enc, NULL, NULL, NULL, nonce) != 1) return 0;
  if (EVP_EncryptUpdate(k->enc, NULL, &n, aad, (int)aadlen) != 1) return 0;
  if (len > 0 && EVP_EncryptUpdate(k->enc, out, &n, pt, (int)len) != 1) return 0;
  if (EVP_EncryptFinal_ex(k->enc, out + len, &n) != 1) return 0;
  return EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_GCM_GET_TAG, TAG, out + len) == 1;
}

/* In place: buf = aad (aadlen bytes, the header first) ‖ ciphertext ‖ tag. 1 when it authenticated. */
static int open_in_place(key_t_ *k, uint8_t *buf, size_t len, size_t aadlen) {
  uint8_t nonce[12];
  int n = 0;
  if (len < aadlen + TAG || aadlen < 24) return 0;
  size_t ctlen = len - aadlen - TAG;
  nonce_for(k, buf, nonce);
  if (!k->dec) {
    k->dec = EVP_CIPHER_CTX_new();
    if (!k->dec || EVP_DecryptInit_ex(k->dec, EVP_aes_128_gcm(), NULL, k->key, NULL) != 1) return 0;
  }
  if (EVP_DecryptInit_ex(k->dec, NULL, NULL, NULL, nonce) != 1) return 0;
  if (EVP_DecryptUpdate(k->dec, NULL, &n, buf, (int)aadlen) != 1) return 0;
  if (ctlen > 0 && EVP_DecryptUpdate(k->dec, buf + aadlen, &n, buf + aadlen, (int)ctlen) != 1) return 0;
  if (EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_GCM_SET_TAG, TAG, buf + len - TAG) != 1) return 0;
  return EVP_DecryptFinal_ex(k->dec, buf + aadlen + ctlen, &n) == 1;
}

static void key_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  key_t_ *k = data;
  if (k->enc) EVP_CIPHER_CTX_free(k->enc);
  if (k->dec) EVP_CIPHER_CTX_free(k->dec);
  OPENSSL_cleanse(k, sizeof *k);
  free(k);
}

/* keyCreate(key: 16 bytes, iv: 12 bytes) → key handle */
static napi_value key_create(napi_env env, napi_callback_info info) {
  size_t argc = 2, kl = 0, il = 0;
  napi_value argv[2], out;
  void *kd, *id;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_buffer_info(env, argv[0], &kd, &kl));
  CHECK(napi_get_buffer_info(env, argv[1], &id, &il));
  if (kl != 16 || il != 12) return throw_errno(env, "keyCreate: key 16 and iv 12 bytes", EINVAL);
  key_t_ *k = calloc(1, sizeof *k);
  if (!k) return throw_errno(env, "keyCreate", ENOMEM);
  memcpy(k->key, kd, 16);
  memcpy(k->iv, id, 12);
  CHECK(napi_create_external(env, k, key_free, NULL, &out));
  return out;
}

/* keySeal(key, aad, plaintext, out: plaintext.length + 16 bytes) → true when sealed */
static napi_value key_seal(napi_env env, napi_callback_info info) {
  size_t argc = 4, al, pl, ol;
  napi_value argv[4], r;
  void *a, *p, *o;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_buffer_info(env, argv[1], &a, &al));
  CHECK(napi_get_buffer_info(env, argv[2], &p, &pl));
  CHECK(napi_get_buffer_info(env, argv[3], &o, &ol));
  int ok = al >= 24 && ol == pl + TAG && seal_into(external(env, argv[0]), a, al, p, pl, o);
  napi_get_boolean(env, ok, &r);
  return r;
}

/* keyOpen(key, datagram, aadBytes) → true when it authenticated (the payload is then clear, in place) */
static napi_value key_open(napi_env env, napi_callback_info info) {
  size_t argc = 3, bl;
  napi_value argv[3], r;
  void *b;
  uint32_t aad;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_buffer_info(env, argv[1], &b, &bl));
  CHECK(napi_get_value_uint32(env, argv[2], &aad));
  napi_get_boolean(env, open_in_place(external(env, argv[0]), b, bl, aad), &r);
  return r;
}

/* ---------------------------------------------------------------- socket */

/* 0 when JS cannot be called now (a worker being terminated): the caller stops reading for this turn. */
static int call_js(sock_t *s, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || !fn) return 0;
  if (napi_get_global(env, &recv) != napi_ok) return 0; /* make_callback wants an object as `this` */
  napi_status st = napi_make_callback(env, s->actx, recv, fn, argc, argv, &result);
  if (st == napi_ok) return 1;
  if (st == napi_pending_exception) {
    napi_value err = NULL;
    napi_valuetype t = napi_undefined;
    napi_get_and_clear_last_exception(env, &err);
    if (err) napi_typeof(env, err, &t);
    /* A listener that threw is the process's uncaught exception, as with dgram; a terminated worker's
       execution ending leaves no exception value, and nothing to report. */
    if (t != napi_undefined) napi_fatal_exception(env, err);
  }
  return 0;
}

/* A socket error for the JS side: (errno, message); it names the errno as Node does (os.constants.errno). */
static void report(sock_t *s, int err) {
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  napi_value argv[2];
  napi_create_int32(s->env, err, &argv[0]);
  napi_create_string_utf8(s->env, strerror(err), NAPI_AUTO_LENGTH, &argv[1]);
  call_js(s, s->on_error, 2, argv);
  napi_close_handle_scope(s->env, scope);
}

static void watch(sock_t *s, int events);

static int queue_pending(sock_t *s, const uint8_t *data, size_t len, const addr_t *to, uint16_t seg) {
  pending_t *p = malloc(sizeof *p + len);
  if (!p) return ENOMEM;
  p->next = NULL;
  p->has_to = to != NULL;
  if (to) p->to = *to;
  p->seg = seg;
  p->len = len;
  memcpy(p->data, data, len);
  if (s->tail) s->tail->next = p;
  else s->head = p;
  s->tail = p;
  s->npending++;
  return 0;
}

static void set_gso(struct msghdr *h, char *ctl, uint16_t seg) {
  h->msg_control = ctl;
  h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
  struct cmsghdr *c = CMSG_FIRSTHDR(h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  memcpy(CMSG_DATA(c), &seg, sizeof seg);
}

/* Sends what waited for the socket to be writable, in order; 0, or the errno of a datagram it dropped. */
static int flush_pending(sock_t *s) {
  int failed = 0;
  while (s->head) {
    pending_t *p = s->head;
    char ctl[CMSG_SPACE(sizeof(uint16_t))];
    struct iovec iov = {p->data, p->len};
    struct msghdr h = {0};
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    if (p->has_to) h.msg_name = &p->to, h.msg_namelen = addr_len(s);
    if (p->seg && p->len > p->seg) set_gso(&h, ctl, p->seg);
    if (sendmsg(s->fd, &h, 0) < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      failed = errno;
    }
    s->head = p->next;
    if (!s->head) s->tail = NULL;
    s->npending--;
    free(p);
  }
  watch(s, s->head ? UV_READABLE | UV_WRITABLE : UV_READABLE);
  return failed;
}

/* Message i's train sent as single datagrams; what the socket cannot take now waits. 0, or an errno. */
static int send_split(sock_t *s, int i) {
  const uint8_t *base = s->iov[i].iov_base;
  size_t total = s->iov[i].iov_len, seg = s->seg[i];
  const addr_t *to = s->connected ? NULL : &s->to[i];
  int failed = 0;
  for (size_t o = 0; o < total; o += seg) {
    size_t len = total - o < seg ? total - o : seg;
    if (!s->head) {
      ssize_t n = to ? sendto(s->fd, base + o, len, 0, &to->sa, addr_len(s))
                     : send(s->fd, base + o, len, 0);
      if (n >= 0) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        failed = errno;
        continue;
      }
    }
    int e = queue_pending(s, base + o, len, to, 0);
    if (e) failed = e;
  }
  return failed;
}

/* sendmmsg for the messages built so far; what the socket cannot take now waits (pending). */
static int flush_tx(sock_t *s) {
  int failed = 0, off = 0;
  if (s->head) failed = flush_pending(s);
  for (int i = 0; i < s->nmsgs; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &s->iov[i];
    h->msg_iovlen = 1;
    if (!s->connected) h->msg_name = &s->to[i], h->msg_namelen = addr_len(s);
    if (s->nseg[i] > 1) set_gso(h, s->ctl[i], s->seg[i]);
  }
  while (off < s->nmsgs && !s->head) {
    int n = sendmmsg(s->fd, s->msgs + off, s->nmsgs - off, 0);
    if (n > 0) {
      off += n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (s->nseg[off] > 1) {
      /* A train the path refuses (no offload: EIO; a datagram over the device's MTU: EINVAL): this one and
         every later one go a datagram at a time. */
      s->gso = 0;
      int e = send_split(s, off++);
      if (e) failed = e;
      continue;
    }
    failed = errno;
    off++; /* this one is lost: the protocol resends it */
  }
  for (; off < s->nmsgs; off++) {
    int e = queue_pending(s, s->iov[off].iov_base, s->iov[off].iov_len, s->connected ? NULL : &s->to[off],
                          s->nseg[off] > 1 ? s->seg[off] : 0);
    if (e) failed = e;
  }
  if (s->head) watch(s, UV_READABLE | UV_WRITABLE);
  s->nmsgs = 0;
  s->used = 0;
  return failed;
}

/* Room for one datagram of len bytes to `to`: appended to the last message's train, or a new message. */
static uint8_t *room(sock_t *s, size_t len, const addr_t *to, int *failed) {
  int m = s->nmsgs - 1;
  if (m >= 0 && s->gso && len <= s->seg[m] && s->iov[m].iov_len % s->seg[m] == 0 && s->nseg[m] < MAX_SEGS &&
      s->iov[m].iov_len + len <= GSO_MAX && s->used + len <= TX_BYTES &&
      (s->connected || same_addr(s, to, &s->to[m]))) {
    uint8_t *at = s->tx + s->used;
    s->iov[m].iov_len += len;
    s->nseg[m]++;
    s->used += len;
    return at;
  }
  if (s->nmsgs == MAX_MSGS || s->used + len > TX_BYTES) {
    int e = flush_tx(s);
    if (e) *failed = e;
  }
  m = s->nmsgs++;
  s->iov[m].iov_base = s->tx + s->used;
  s->iov[m].iov_len = len;
  s->seg[m] = (uint16_t)len;
  s->nseg[m] = 1;
  if (!s->connected) s->to[m] = *to;
  s->used += len;
  return s->iov[m].iov_base;
}

/*
 * A size probe (DPLPMTUD): sent alone, now, with the don't-fragment bit. One the socket cannot take now is
 * dropped, not queued (a probe may be lost; a queued one would go later without the bit). 0, or an errno
 * (EMSGSIZE: bigger than this host's own link).
 */
static int send_probe(sock_t *s, const uint8_t *data, size_t len, const addr_t *to) {
  int v6 = s->family == AF_INET6, probe = v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE, e = 0;
  int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, name = v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER;
  if (!s->df) return EMSGSIZE;
  setsockopt(s->fd, level, name, &probe, sizeof probe);
  ssize_t n = s->connected ? send(s->fd, data, len, 0) : sendto(s->fd, data, len, 0, &to->sa, addr_len(s));
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) e = errno;
  setsockopt(s->fd, level, name, &s->pmtudisc, sizeof s->pmtudisc);
  return e;
}

/*
 * socketSend(sock, parts: Buffer[], meta: Uint32Array, count, keys: key[]) → 0, or the errno of a datagram lost.
 * meta, per datagram (TX_META words): number of parts (| PROBE_FLAG for a size probe), port, key (0: sent as
 * given; k: keys[k-1] seals it, the last part being the plaintext and the others the clear header and prefix),
 * address (four words; unused on a connected socket).
 */
static napi_value sock_send(napi_env env, napi_callback_info info) {
  size_t argc = 5, ml;
  napi_value argv[5];
  void *mp;
  uint32_t count, part = 0;
  napi_typedarray_type tt;
  napi_value ab;
  size_t moff;
  int failed = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = external(env, argv[0]);
  CHECK(napi_get_typedarray_info(env, argv[2], &tt, &ml, &mp, &ab, &moff));
  CHECK(napi_get_value_uint32(env, argv[3], &count));
  if (s->closed) return num(env, EBADF);
  if (tt != napi_uint32_array || ml < (size_t)count * TX_META) return throw_errno(env, "socketSend: meta", EINVAL);
  for (uint32_t d = 0; d < count; d++) {
    const uint32_t *meta = (const uint32_t *)mp + (size_t)d * TX_META;
    uint32_t nparts = meta[0] & 0xff, probe = meta[0] & PROBE_FLAG, keyi = meta[2];
    addr_t to;
    addr_from_words(s, meta + 3, meta[1], &to);
    uint8_t *pd[8];
    size_t pl[8], len = 0;
    if (nparts == 0 || nparts > 8) return throw_errno(env, "socketSend: parts", EINVAL);
    for (uint32_t i = 0; i < nparts; i++) {
      napi_value b;
      CHECK(napi_get_element(env, argv[1], part + i, &b));
      CHECK(napi_get_buffer_info(env, b, (void **)&pd[i], &pl[i]));
      len += pl[i];
    }
    part += nparts;
    key_t_ *k = NULL;
    if (keyi) {
      napi_value kv;
      CHECK(napi_get_element(env, argv[4], keyi - 1, &kv));
      k = external(env, kv);
      len += TAG;
    }
    if (len > RX_BYTES) return throw_errno(env, "socketSend: datagram", EMSGSIZE);
    /* A probe goes after what was built before it, alone, from a buffer of its own. */
    if (probe && s->nmsgs > 0) {
      int e = flush_tx(s);
      if (e) failed = e;
    }
    uint8_t *at = probe ? malloc(len) : room(s, len, &to, &failed), *w = at;
    if (!at) return throw_errno(env, "socketSend: probe", ENOMEM);
    uint32_t clear = k ? nparts - 1 : nparts;
    for (uint32_t i = 0; i < clear; i++) memcpy(w, pd[i], pl[i]), w += pl[i];
    if (k && (w - at < 24 || !seal_into(k, at, w - at, pd[nparts - 1], pl[nparts - 1], w))) {
      if (probe) free(at);
      return throw_errno(env, "socketSend: seal", EINVAL);
    }
    if (probe) {
      int e = send_probe(s, at, len, &to);
      if (e) failed = e;
      free(at);
    }
  }
  if (s->nmsgs > 0) {
    int e = flush_tx(s);
    if (e) failed = e;
  }
  return num(env, failed);
}

static napi_value sock_pending(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = external(env, argv[0]);
  return num(env, (double)s->npending);
}

/* recvmmsg rounds: every datagram read (a GRO train split into its datagrams) goes to JS as one buffer. */
static void receive(sock_t *s) {
  static __thread struct mmsghdr rm[RX_MSGS];
  static __thread struct iovec riov[RX_MSGS];
  static __thread addr_t from[RX_MSGS];
  static __thread char rctl[RX_MSGS][CMSG_SPACE(sizeof(int))];
  for (int round = 0; round < RX_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < RX_MSGS; i++) {
      riov[i].iov_base = s->rx + (size_t)i * RX_BYTES;
      riov[i].iov_len = RX_BYTES;
      memset(&rm[i].msg_hdr, 0, sizeof rm[i].msg_hdr);
      rm[i].msg_hdr.msg_iov = &riov[i];
      rm[i].msg_hdr.msg_iovlen = 1;
      rm[i].msg_hdr.msg_name = &from[i];
      rm[i].msg_hdr.msg_namelen = sizeof from[i];
      rm[i].msg_hdr.msg_control = rctl[i];
      rm[i].msg_hdr.msg_controllen = sizeof rctl[i];
    }
    int n = recvmmsg(s->fd, rm, RX_MSGS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) report(s, errno);
      return;
    }
    size_t total = 0;
    uint32_t count = 0;
    for (int i = 0; i < n; i++) total += rm[i].msg_len;
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value argv[3];
    uint8_t *out = NULL;
    if (napi_create_buffer(s->env, total ? total : 1, (void **)&out, &argv[0]) != napi_ok || !out) {
      napi_close_handle_scope(s->env, scope); /* the environment is going away: what was read is dropped */
      return;
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
      size_t len = rm[i].msg_len, seg = len;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&rm[i].msg_hdr); c; c = CMSG_NXTHDR(&rm[i].msg_hdr, c)) {
        int g;
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&g, CMSG_DATA(c), sizeof g), seg = (size_t)g;
      }
      memcpy(out + at, riov[i].iov_base, len);
      for (size_t o = 0; o < len || (len == 0 && o == 0); o += seg ? seg : 1) {
        uint32_t *m = s->meta + (size_t)count * RX_META;
        m[0] = (uint32_t)(at + o);
        m[1] = (uint32_t)(len - o < seg ? len - o : seg);
        m[2] = addr_to_words(&from[i], m + 3);
        count++;
        if (len == 0) break;
      }
      at += len;
    }
    napi_create_uint32(s->env, count, &argv[1]);
    napi_get_reference_value(s->env, s->meta_ref, &argv[2]);
    int called = call_js(s, s->on_recv, 3, argv);
    napi_close_handle_scope(s->env, scope);
    if (!called || n < RX_MSGS) return;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sock_t *s = h->data;
  if (s->closed) return;
  if (status < 0) {
    /* libuv's poll error: read the socket's own error (an ICMP port unreachable on a connected socket) */
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    report(s, err ? err : EIO);
    /* libuv stops a poll handle on POLLERR; dgram goes on reading after an error, and so does this. */
    int ev = s->events;
    s->events = 0;
    if (!s->closed) watch(s, ev);
    return;
  }
  if (events & UV_WRITABLE) {
    int e = flush_pending(s);
    if (e && !s->closed) report(s, e);
  }
  if (events & UV_READABLE && !s->closed) receive(s);
}

static void watch(sock_t *s, int events) {
  if (s->closed || s->events == events) return;
  s->events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

static void release(sock_t *s, int teardown) {
  while (s->head) {
    pending_t *p = s->head;
    s->head = p->next;
    free(p);
  }
  if (!teardown) {
    napi_delete_reference(s->env, s->on_recv);
    napi_delete_reference(s->env, s->on_error);
    napi_delete_reference(s->env, s->meta_ref);
    napi_async_destroy(s->env, s->actx);
  }
  free(s->rx);
  free(s->tx);
  free(s);
}

static void closed_cb(uv_handle_t *h) {
  sock_t *s = h->data;
  napi_remove_async_cleanup_hook(s->cleanup);
  release(s, s->closed == 2);
}

static void shut(sock_t *s, int teardown) {
  if (s->closed) return;
  s->closed = teardown ? 2 : 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  uv_close((uv_handle_t *)&s->poll, closed_cb);
}

/* The environment (a worker thread) ends with the socket open: closed, and the environment told when it is. */
static void teardown_hook(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  shut(arg, 1);
}

/*
 * Whether this kernel segments trains we send (GSO) and hands us trains (GRO, then switched on for fd), and
 * whether a datagram can go with the don't-fragment bit, never fragmented here (IP_PMTUDISC_PROBE: DF set,
 * the kernel's own path MTU ignored), as LFTP's size probes must (DPLPMTUD, RFC 8899: a probe too big for the
 * path must be lost, not pass as fragments). Only probes go so (send_probe): every other datagram keeps the
 * socket's own setting, *pmtudisc, as it was.
 */
static void offloads(int fd, int family, int *gso, int *gro, int *df, int *pmtudisc) {
  int v6 = family == AF_INET6, one = 1, seg = 1200, probe = v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE;
  int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, name = v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER;
  socklen_t l = sizeof *pmtudisc;
  *gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  *gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
  seg = 0; /* per message only (a cmsg): a socket-wide size would cut every datagram */
  if (*gso) setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
  *df = getsockopt(fd, level, name, pmtudisc, &l) == 0 && setsockopt(fd, level, name, &probe, sizeof probe) == 0 &&
        setsockopt(fd, level, name, pmtudisc, sizeof *pmtudisc) == 0;
}


/* socketOpen(bufferBytes, reusePort, onRecv(buf, count, meta), onError(errno, message), family: 4 | 6) → socket */
static napi_value sock_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out, res, name, meta_ab;
  uint32_t bufbytes, fam = 4;
  bool reuse;
  int one = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_uint32(env, argv[0], &bufbytes));
  CHECK(napi_get_value_bool(env, argv[1], &reuse));
  if (argc > 4) CHECK(napi_get_value_uint32(env, argv[4], &fam));
  int family = fam == 6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "SO_REUSEPORT", e);
  }
  int b = (int)bufbytes;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof b);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b, sizeof b);
  sock_t *s = calloc(1, sizeof *s);
  if (s) s->rx = malloc((size_t)RX_MSGS * RX_BYTES), s->tx = malloc(TX_BYTES);
  if (!s || !s->rx || !s->tx) {
    close(fd);
    if (s) free(s->rx), free(s->tx), free(s);
    return throw_errno(env, "socketOpen", ENOMEM);
  }
  s->fd = fd;
  s->family = family;
  s->env = env;
  offloads(fd, family, &s->gso, &s->gro, &s->df, &s->pmtudisc);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  CHECK(napi_create_reference(env, argv[2], 1, &s->on_recv));
  CHECK(napi_create_reference(env, argv[3], 1, &s->on_error));
  /* V8 owns the metadata's memory (an external one is refused where V8 runs sandboxed); the reference keeps it. */
  CHECK(napi_create_arraybuffer(env, (size_t)RX_MSGS * MAX_SEGS * RX_META * 4, (void **)&s->meta, &meta_ab));
  napi_value meta;
  CHECK(napi_create_typedarray(env, napi_uint32_array, (size_t)RX_MSGS * MAX_SEGS * RX_META, meta_ab, 0, &meta));
  CHECK(napi_create_reference(env, meta, 1, &s->meta_ref));
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_string_utf8(env, "lftp-socket", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, res, name, &s->actx));
  CHECK(napi_add_async_cleanup_hook(env, teardown_hook, s, &s->cleanup));
  CHECK(napi_create_external(env, s, NULL, NULL, &out));
  return out;
}

/* A literal address of the socket's family and a port. */
static int parse_addr(napi_env env, const sock_t *s, napi_value a, napi_value p, addr_t *sa) {
  char host[64];
  size_t hl;
  uint32_t port;
  if (napi_get_value_string_utf8(env, a, host, sizeof host, &hl) != napi_ok) return 0;
  if (napi_get_value_uint32(env, p, &port) != napi_ok || port > 65535) return 0;
  memset(sa, 0, sizeof *sa);
  if (s->family == AF_INET6) {
    sa->v6.sin6_family = AF_INET6;
    sa->v6.sin6_port = htons((uint16_t)port);
    return inet_pton(AF_INET6, host, &sa->v6.sin6_addr) == 1;
  }
  sa->v4.sin_family = AF_INET;
  sa->v4.sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &sa->v4.sin_addr) == 1;
}

/* socketBind(sock, address, port) / socketConnect(sock, address, port): then it reads. */
static napi_value bind_or_connect(napi_env env, napi_callback_info info, int connect_it) {
  size_t argc = 3;
  napi_value argv[3], r;
  addr_t sa;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = external(env, argv[0]);
  if (!parse_addr(env, s, argv[1], argv[2], &sa)) return throw_errno(env, "address", EINVAL);
  int rc = connect_it ? connect(s->fd, &sa.sa, addr_len(s)) : bind(s->fd, &sa.sa, addr_len(s));
  if (rc < 0) return throw_errno(env, connect_it ? "connect" : "bind", errno);
  s->connected = connect_it;
  watch(s, UV_READABLE);
  napi_get_undefined(env, &r);
  return r;
}

static napi_value sock_bind(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, 0); }
static napi_value sock_connect(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, 1); }

static napi_value sock_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  addr_t sa;
  uint32_t words[4];
  socklen_t l = sizeof sa;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = external(env, argv[0]);
  if (s->closed || getsockname(s->fd, &sa.sa, &l) < 0) return throw_errno(env, "getsockname", EBADF);
  return num(env, addr_to_words(&sa, words));
}

/* socketClose(sock): the descriptor closed now, the rest once libuv lets go of the handle. */
static napi_value sock_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  shut(external(env, argv[0]), 0);
  napi_get_undefined(env, &r);
  return r;
}

/* features([sock]) → { gso, gro }: what the socket's kernel took (no socket: what a new one would get). */
static napi_value features(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL}, r, g, o, d;
  napi_valuetype t = napi_undefined;
  int gso = 0, gro = 0, df = 0, pmtudisc = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc > 0) napi_typeof(env, argv[0], &t);
  if (t == napi_external) {
    sock_t *s = external(env, argv[0]);
    gso = s->gso, gro = s->gro, df = s->df;
  } else {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) offloads(fd, AF_INET, &gso, &gro, &df, &pmtudisc), close(fd);
  }
  CHECK(napi_create_object(env, &r));
  napi_get_boolean(env, gso, &g);
  napi_get_boolean(env, gro, &o);
  napi_get_boolean(env, df, &d);
  napi_set_named_property(env, r, "gso", g);
  napi_set_named_property(env, r, "gro", o);
  napi_set_named_property(env, r, "df", d);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"keyCreate", NULL, key_create, NULL, NULL, NULL, napi_default, NULL},
      {"keySeal", NULL, key_seal, NULL, NULL, NULL, napi_default, NULL},
      {"keyOpen", NULL, key_open, NULL, NULL, NULL, napi_default, NULL},
      {"socketOpen", NULL, sock_open, NULL, NULL, NULL, napi_default, NULL},
      {"socketBind", NULL, sock_bind, NULL, NULL, NULL, napi_default, NULL},
      {"socketConnect", NULL, sock_connect, NULL, NULL, NULL, napi_default, NULL},
      {"socketPort", NULL, sock_port, NULL, NULL, NULL, napi_default, NULL},
      {"socketSend", NULL, sock_send, NULL, NULL, NULL, napi_default, NULL},
      {"socketPending", NULL, sock_pending, NULL, NULL, NULL, napi_default, NULL},
      {"socketClose", NULL, sock_close, NULL, NULL, NULL, napi_default, NULL},
      {"features", NULL, features, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
