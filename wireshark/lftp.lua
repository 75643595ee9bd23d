-- LFTP (docs/LFTP.md) for Wireshark and tshark: reliable file transfer over UDP.
--
-- Every header field is filterable (lftp.version, lftp.flags.syn, lftp.seq, lftp.ack, lftp.window,
-- lftp.conn, lftp.checksum, lftp.pn, ...), with sequence numbers also relative to each side's
-- initial one (lftp.seq_rel, lftp.ack_rel), as Wireshark shows TCP's. A version-1 datagram's CRC-32
-- is checked (lftp.checksum.status; a wrong one is an expert-info warning). A version-2 datagram is
-- protected (AES-128-GCM): its header is read, its payload is shown as ciphertext and tag.
-- The Info column reads like TCP's, so Statistics > Flow Graph draws the handshake and teardown.
-- Found on any UDP port by its shape (a heuristic); Decode As > LFTP works too.
-- A RETRY (flag 0x80 alone: the server's address-validation answer to a SYN) shows its token, and the
-- reference server's expiry and MAC in it (lftp.retry.*); a SYN's "retry" field is lftp.syn.retry.
-- A malformed datagram (shorter than the header, a payload length that is not the datagram's, a
-- payload that is not what its flags say: SYN JSON that is not JSON or an mss that is not a number,
-- SACK blocks that are not whole or not ranges, END that is not 40 bytes, a protected payload
-- shorter than its tag) is marked with expert info lftp.malformed (Malformed, Error) and its
-- dissection stops there; the dissector never throws a Lua error.
--
-- Install: npm run wireshark:install (or copy this file into ~/.local/lib/wireshark/plugins/).
-- Use once: tshark -X lua_script:wireshark/lftp.lua -r capture.pcap

local lftp = Proto("lftp", "LFTP (file transfer over UDP)")

local FLAG = { SYN = 0x01, ACK = 0x02, FIN = 0x04, DAT = 0x08, END = 0x10, ERR = 0x20, POST = 0x40, RETRY = 0x80 }
local FLAG_ORDER = { "SYN", "ACK", "FIN", "DAT", "END", "ERR", "POST", "RETRY" }
local HEADER = 24
local TAG = 16
local NONCE = 16
local MAX_SACK_BLOCKS = 16
local MAX_RETRY_TOKEN = 64

local f = {
  version = ProtoField.uint8("lftp.version", "Version", base.DEC, { [1] = "1 (CRC-32)", [2] = "2 (protected: AES-128-GCM)" }),
  flags = ProtoField.uint8("lftp.flags", "Flags", base.HEX),
  syn = ProtoField.bool("lftp.flags.syn", "SYN", 8, nil, FLAG.SYN),
  ack_flag = ProtoField.bool("lftp.flags.ack", "ACK", 8, nil, FLAG.ACK),
  fin = ProtoField.bool("lftp.flags.fin", "FIN", 8, nil, FLAG.FIN),
  dat = ProtoField.bool("lftp.flags.dat", "DAT", 8, nil, FLAG.DAT),
  fend = ProtoField.bool("lftp.flags.end", "END", 8, nil, FLAG.END),
  err = ProtoField.bool("lftp.flags.err", "ERR", 8, nil, FLAG.ERR),
  post = ProtoField.bool("lftp.flags.post", "POST (upload)", 8, nil, FLAG.POST),
  retry_flag = ProtoField.bool("lftp.flags.retry", "RETRY (address validation)", 8, nil, FLAG.RETRY),
  length = ProtoField.uint16("lftp.length", "Payload length", base.DEC),
  conn = ProtoField.uint32("lftp.conn", "Connection id", base.HEX),
  seq = ProtoField.uint32("lftp.seq", "Sequence number", base.DEC),
  seq_rel = ProtoField.uint32("lftp.seq_rel", "Sequence number (relative)", base.DEC),
  ack = ProtoField.uint32("lftp.ack", "Acknowledgement number", base.DEC),
  ack_rel = ProtoField.uint32("lftp.ack_rel", "Acknowledgement number (relative)", base.DEC),
  window = ProtoField.uint32("lftp.window", "Receive window (packets)", base.DEC),
  checksum = ProtoField.uint32("lftp.checksum", "Checksum (CRC-32)", base.HEX),
  checksum_status = ProtoField.string("lftp.checksum.status", "Checksum status"),
  pn = ProtoField.uint32("lftp.pn", "Packet number", base.DEC),
  nonce = ProtoField.bytes("lftp.nonce", "Server nonce"),
  ciphertext = ProtoField.bytes("lftp.ciphertext", "Encrypted payload"),
  tag = ProtoField.bytes("lftp.tag", "Authentication tag"),
  json = ProtoField.string("lftp.json", "Payload (JSON)"),
  name = ProtoField.string("lftp.syn.name", "File name"),
  mss = ProtoField.uint32("lftp.syn.mss", "MSS", base.DEC),
  size = ProtoField.uint64("lftp.size", "File size", base.DEC),
  sha256 = ProtoField.bytes("lftp.sha256", "SHA-256 of the file"),
  sack_start = ProtoField.uint32("lftp.sack.start", "SACK block start", base.DEC),
  sack_end = ProtoField.uint32("lftp.sack.end", "SACK block end", base.DEC),
  largest = ProtoField.uint32("lftp.ack.largest", "Largest datagram received (DPLPMTUD)", base.DEC),
  dgram = ProtoField.uint32("lftp.syn.dgram", "Largest datagram taken (packed data)", base.DEC),
  error_code = ProtoField.string("lftp.error.code", "Error code"),
  data = ProtoField.bytes("lftp.data", "File data"),
  retry_token = ProtoField.bytes("lftp.retry.token", "Address-validation token"),
  retry_expiry = ProtoField.absolute_time("lftp.retry.expiry", "Token expiry (the reference server's token)", base.UTC),
  retry_mac = ProtoField.bytes("lftp.retry.mac", "Token MAC (the reference server's token)"),
  syn_retry = ProtoField.string("lftp.syn.retry", "Retry token (base64url; empty: none yet)"),
  resume_have = ProtoField.uint64("lftp.resume.have", "Resume: bytes the client holds", base.DEC),
  resume_from = ProtoField.uint64("lftp.resume.from", "Resume: data starts at byte", base.DEC),
  source_tag = ProtoField.string("lftp.resume.tag", "Resume: source tag"),
}
lftp.fields = {}
for _, v in pairs(f) do table.insert(lftp.fields, v) end

local bad_checksum = ProtoExpert.new("lftp.checksum.bad", "Bad LFTP checksum", expert.group.CHECKSUM, expert.severity.WARN)
local protected_note = ProtoExpert.new("lftp.protected", "Protected datagram: the payload is encrypted", expert.group.SECURITY, expert.severity.CHAT)
local malformed = ProtoExpert.new("lftp.malformed", "Malformed LFTP datagram", expert.group.MALFORMED, expert.severity.ERROR)
-- Only if a check below missed a case: the error is shown here instead of thrown (a bug to fix).
local dissector_error = ProtoExpert.new("lftp.dissector_error", "LFTP dissector error", expert.group.MALFORMED, expert.severity.ERROR)
lftp.experts = { bad_checksum, protected_note, malformed, dissector_error }

-- CRC-32 (IEEE 802.3, as zlib's), table-driven.
local band, bxor, rshift, bnot = bit32.band, bit32.bxor, bit32.rshift, bit32.bnot
local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if band(c, 1) == 1 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
  end
  crc_table[i] = c
end
local function crc32(tvb)
  local c = 0xFFFFFFFF
  local n = tvb:len()
  for i = 0, n - 1 do
    local byte = (i >= 20 and i < 24) and 0 or tvb(i, 1):uint()
    c = bxor(crc_table[band(bxor(c, byte), 0xFF)], rshift(c, 8))
  end
  return bnot(c) % 0x100000000
end

-- Each side's initial sequence number, by conversation and direction, learnt from its SYN or SYN-ACK.
local isns = {}
local function endpoint(addr, port, conn) return tostring(addr) .. ":" .. port .. "/" .. conn end

local function flag_names(flags)
  local out = {}
  for _, name in ipairs(FLAG_ORDER) do
    if band(flags, FLAG[name]) ~= 0 then table.insert(out, name) end
  end
  return table.concat(out, ", ")
end

local function json_field(text, key)
  return text:match('"' .. key .. '"%s*:%s*"([^"]*)"') or text:match('"' .. key .. '"%s*:%s*([%d]+)')
end

-- A JSON object's shape: "{" ... "}" (leading and trailing white space aside). Not a parser: enough to tell
-- a payload that is not JSON at all.
local function json_object(bytes)
  return bytes:match("^%s*{") ~= nil and bytes:match("}%s*$") ~= nil
end

-- A u32 written in decimal, or nil.
local function u32(text)
  if not text:match("^%d+$") then return nil end
  local v = tonumber(text)
  if v == nil or v > 0xFFFFFFFF then return nil end
  return v
end

-- Connection ids seen in a datagram whose CRC checked: a corrupted one of theirs is still LFTP (and flagged).
local known = {}

-- Is this a plausible LFTP datagram? (For the heuristic: the shape, and for version 1 the CRC.)
local function looks_like(tvb)
  local len = tvb:len()
  if len < HEADER then return false end
  local version = tvb(0, 1):uint()
  if version ~= 1 and version ~= 2 then return false end
  -- RETRY (0x80) only alone, and only in version 1.
  local flags = tvb(1, 1):uint()
  if band(flags, FLAG.RETRY) ~= 0 and (flags ~= FLAG.RETRY or version ~= 1) then return false end
  if tvb(2, 2):uint() ~= len - HEADER then return false end
  if version == 1 then
    if crc32(tvb) == tvb(20, 4):uint() then
      known[tvb(4, 4):uint()] = true
      return true
    end
    return known[tvb(4, 4):uint()] == true
  end
  return len >= HEADER + 16
end

-- The payload's fields. Returns why the payload is malformed, and the item it is about (nil: the whole
-- datagram), or nothing: the caller marks it, and nothing more is read.
local function payload_tree(tvb, tree, flags, version, from_server)
  local len = tvb:len() - HEADER
  if band(flags, FLAG.END) ~= 0 and version == 1 and len ~= 40 then
    return "END payload is " .. len .. " bytes, not 40 (file size and SHA-256)"
  end
  if band(flags, FLAG.RETRY) ~= 0 and version == 1 then
    if flags ~= FLAG.RETRY then return "RETRY with other flags" end
    if len < 1 or len > MAX_RETRY_TOKEN then return "RETRY token is " .. len .. " bytes, not 1-" .. MAX_RETRY_TOKEN end
    local ti = tree:add(f.retry_token, tvb(HEADER, len))
    -- The reference server's token: expiry (u64, ms since 1970) and a 16-byte MAC; opaque to anyone else.
    if len == 24 then
      local ms = tvb(HEADER, 8):uint64():tonumber()
      ti:add(f.retry_expiry, tvb(HEADER, 8), NSTime.new(math.floor(ms / 1000), math.floor(ms % 1000) * 1000000))
      ti:add(f.retry_mac, tvb(HEADER + 8, 16))
    end
    return nil
  end
  if len <= 0 then return nil end
  local body = tvb(HEADER, len)
  if version == 2 then
    local at = HEADER
    local nonce = from_server and band(flags, FLAG.SYN) ~= 0
    if len < TAG + (nonce and NONCE or 0) then
      return "protected payload is " .. len .. " bytes, shorter than its " .. (nonce and "nonce and " or "") .. "tag"
    end
    if nonce then
      tree:add(f.nonce, tvb(at, NONCE))
      at = at + NONCE
    end
    if tvb:len() - TAG > at then tree:add(f.ciphertext, tvb(at, tvb:len() - TAG - at)) end
    tree:add(f.tag, tvb(tvb:len() - TAG, TAG))
    tree:add_proto_expert_info(protected_note)
    return nil
  end
  -- A pure ACK carries JSON (queued) or SACK blocks: JSON if it is shaped like a JSON object.
  local is_json = band(flags, FLAG.SYN + FLAG.ERR) ~= 0 or (flags == FLAG.ACK and json_object(body:raw()))
  if band(flags, FLAG.DAT) ~= 0 then
    tree:add(f.data, body)
  elseif band(flags, FLAG.END) ~= 0 then
    tree:add(f.size, tvb(HEADER, 8))
    tree:add(f.sha256, tvb(HEADER + 8, 32))
  elseif is_json then
    local text = body:string()
    local ji = tree:add(f.json, body, text)
    if not json_object(body:raw()) then return "payload is not a JSON object", ji end
    local name = json_field(text, "name")
    if name then tree:add(f.name, body, name) end
    local mss = json_field(text, "mss")
    if mss then
      if u32(mss) == nil then return "mss is not a number of bytes: " .. mss:sub(1, 32), ji end
      tree:add(f.mss, body, u32(mss))
    end
    -- Packed data datagrams (docs/LFTP.md, "Datagram size"): the largest datagram each end takes.
    local dgram = text:match('"dgram"%s*:%s*(%d+)')
    if dgram then tree:add(f.dgram, body, tonumber(dgram)) end
    local code = json_field(text, "code")
    if code then tree:add(f.error_code, body, code) end
    local retry = text:match('"retry"%s*:%s*"([A-Za-z0-9_-]*)"')
    if retry then tree:add(f.syn_retry, body, retry) end
    -- Resume (docs/LFTP.md, "Resume"): what the SYN holds or sends, where the SYN-ACK starts the data.
    for key, field in pairs({ have = f.resume_have, from = f.resume_from }) do
      local n = text:match('"' .. key .. '"%s*:%s*(%d+)')
      if n then tree:add(field, body, UInt64.new(tonumber(n) % 0x100000000, math.floor(tonumber(n) / 0x100000000))) end
    end
    local tag = text:match('"tag"%s*:%s*"([A-Za-z0-9_-]*)"')
    if tag then tree:add(f.source_tag, body, tag) end
  elseif flags == FLAG.ACK then
    -- SACK blocks, then (where both ends take packed datagrams) 4 bytes: the largest datagram received.
    if len % 8 == 4 then
      tree:add(f.largest, tvb(HEADER + len - 4, 4))
      len = len - 4
    end
    if len % 8 ~= 0 then return "SACK blocks are " .. len .. " bytes, not a whole number of 8-byte blocks" end
    for i = 0, len / 8 - 1 do
      local at = HEADER + i * 8
      local b = tree:add(f.sack_start, tvb(at, 4))
      tree:add(f.sack_end, tvb(at + 4, 4))
      b:append_text(" (block " .. (i + 1) .. ")")
      -- [start, end) in sequence space: its end after its start (RFC 1982), as the sender checks it.
      local span = (tvb(at + 4, 4):uint() - tvb(at, 4):uint()) % 0x100000000
      if span == 0 or span >= 0x80000000 then return "SACK block " .. (i + 1) .. ": its end is not after its start", b end
    end
    if len / 8 > MAX_SACK_BLOCKS then return (len / 8) .. " SACK blocks, more than " .. MAX_SACK_BLOCKS end
  end
  return nil
end

local function dissect(tvb, pinfo, tree)
  pinfo.cols.protocol = "LFTP"
  if tvb:len() < HEADER then
    local t = tree:add(lftp, tvb(), "LFTP, truncated")
    t:add_proto_expert_info(malformed, "Truncated: " .. tvb:len() .. " bytes, shorter than the " .. HEADER .. "-byte header")
    pinfo.cols.info = "[Malformed: " .. tvb:len() .. " bytes, shorter than the header]"
    return tvb:len()
  end
  local version = tvb(0, 1):uint()
  local flags = tvb(1, 1):uint()
  local conn = tvb(4, 4):uint()
  local seq = tvb(8, 4):uint()
  local ack = tvb(12, 4):uint()
  local win = tvb(16, 4):uint()
  local t = tree:add(lftp, tvb(), "LFTP, " .. (version == 2 and "protected" or "version " .. version))
  local problem = nil
  local vi = t:add(f.version, tvb(0, 1))
  if version ~= 1 and version ~= 2 then
    vi:add_proto_expert_info(malformed, "Unknown version " .. version)
    problem = "unknown version " .. version
  end
  local ft = t:add(f.flags, tvb(1, 1))
  ft:append_text(" (" .. flag_names(flags) .. ")")
  for _, k in ipairs({ "syn", "ack_flag", "fin", "dat", "fend", "err", "post", "retry_flag" }) do ft:add(f[k], tvb(1, 1)) end
  local li = t:add(f.length, tvb(2, 2))
  local declared = tvb(2, 2):uint()
  if declared ~= tvb:len() - HEADER then
    li:add_proto_expert_info(malformed, "Payload length " .. declared .. ", but " .. (tvb:len() - HEADER) .. " bytes follow the header")
    problem = problem or "payload length " .. declared .. " is not the datagram's"
  end
  t:add(f.conn, tvb(4, 4))

  local src = endpoint(pinfo.src, pinfo.src_port, conn)
  local dst = endpoint(pinfo.dst, pinfo.dst_port, conn)
  if band(flags, FLAG.SYN) ~= 0 and not isns[src] then isns[src] = seq end
  t:add(f.seq, tvb(8, 4))
  -- A RETRY's seq is 0, no number of the server's.
  local numbered = isns[src] and flags ~= FLAG.RETRY
  if numbered then t:add(f.seq_rel, tvb(8, 4), (seq - isns[src]) % 0x100000000):set_generated() end
  t:add(f.ack, tvb(12, 4))
  -- A RETRY acknowledges the SYN it answers (ack = its seq + 1) without the ACK flag.
  local acks = band(flags, FLAG.ACK) ~= 0 or flags == FLAG.RETRY
  if isns[dst] and acks then t:add(f.ack_rel, tvb(12, 4), (ack - isns[dst]) % 0x100000000):set_generated() end
  t:add(f.window, tvb(16, 4))
  if version == 1 then
    local ci = t:add(f.checksum, tvb(20, 4))
    if crc32(tvb) == tvb(20, 4):uint() then
      t:add(f.checksum_status, tvb(20, 4), "Good"):set_generated()
    else
      t:add(f.checksum_status, tvb(20, 4), "Bad"):set_generated()
      ci:add_proto_expert_info(bad_checksum, "Bad checksum: the datagram was corrupted (LFTP drops it)")
    end
  else
    t:add(f.pn, tvb(20, 4))
  end
  local from_server = band(flags, FLAG.SYN + FLAG.ACK) == FLAG.SYN + FLAG.ACK
  -- A header that is not right: its payload is not read.
  if problem == nil then
    local item
    problem, item = payload_tree(tvb, t, flags, version, from_server)
    if problem then (item or t):add_proto_expert_info(malformed, "Malformed payload: " .. problem) end
  end

  local rel_seq = numbered and (seq - isns[src]) % 0x100000000 or seq
  local rel_ack = isns[dst] and (ack - isns[dst]) % 0x100000000 or ack
  local info = "[" .. flag_names(flags) .. "] Seq=" .. rel_seq
  if acks then info = info .. " Ack=" .. rel_ack end
  info = info .. " Win=" .. win .. " Len=" .. (tvb:len() - HEADER)
  if version == 2 then info = info .. " PN=" .. tvb(20, 4):uint() end
  if problem then info = info .. " [Malformed: " .. problem .. "]" end
  pinfo.cols.info = info
  return tvb:len()
end

function lftp.dissector(tvb, pinfo, tree)
  local ok, result = pcall(dissect, tvb, pinfo, tree)
  if ok then return result end
  pcall(function()
    pinfo.cols.protocol = "LFTP"
    pinfo.cols.info = "[Malformed: dissector error]"
    tree:add(lftp, tvb()):add_proto_expert_info(dissector_error, "LFTP dissector error: " .. tostring(result))
  end)
  return tvb:len()
end

local function heuristic(tvb, pinfo, tree)
  if not looks_like(tvb) then return false end
  lftp.dissector(tvb, pinfo, tree)
  -- The rest of this UDP conversation is LFTP too, corrupted datagrams included.
  pinfo.conversation = lftp
  return true
end

lftp:register_heuristic("udp", heuristic)
DissectorTable.get("udp.port"):add_for_decode_as(lftp)
