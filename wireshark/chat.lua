-- The heartbeat-chat protocol (docs/PROTOCOL.md) for Wireshark and tshark: frames over TCP.
--
-- A frame is a 5-byte header (u32 big-endian body length, u8 type) and a JSON body. Frames split
-- across TCP segments, or several in one, are reassembled (dissect_tcp_pdus). Fields: chat.length,
-- chat.type (by name: chat.type == 0x0a is HEARTBEAT), chat.body, and the JSON tree under it; the
-- common members are fields too (chat.nick, chat.text, chat.seq, chat.code, chat.room).
-- Found on any TCP port by its shape (a heuristic), and inside TLS when Wireshark decrypts it
-- (chat-server or chat-client --keylog FILE, then Preferences > Protocols > TLS > (Pre)-Master-Secret
-- log filename). Decode As > CHAT works too. The browser page's WebSocket is decoded on the web port
-- (preference chat_ws.port, default 9001; its HTTP upgrade decoded as HTTP, with Decode As if need be).
--
-- A malformed frame (a body length past the end of what there is or over the protocol's bound, a body
-- that is not a JSON object, a heartbeat seq that is not a number) is marked with expert info
-- chat.malformed (Malformed, Error) and its dissection stops there; the dissector never throws a Lua error.
--
-- Install: npm run wireshark:install. Use once: tshark -X lua_script:wireshark/chat.lua -r capture.pcap
-- The frame types below are common/messages.ts's FrameType (test/e2e/wireshark.test.ts checks they agree).

local chat = Proto("chat", "heartbeat-chat protocol")

local TYPES = {
  [0x01] = "HELLO",
  [0x02] = "WELCOME",
  [0x03] = "CHAT",
  [0x04] = "DIRECT",
  [0x05] = "BROADCAST",
  [0x06] = "NOTICE",
  [0x07] = "WHO",
  [0x08] = "WHO_REPLY",
  [0x09] = "NICK",
  [0x0a] = "HEARTBEAT",
  [0x0b] = "HEARTBEAT_ACK",
  [0x0c] = "ERROR",
  [0x0d] = "BYE",
  [0x0e] = "FILES",
  [0x0f] = "FILES_REPLY",
  [0x10] = "TICKET_REQUEST",
  [0x11] = "TICKET",
  [0x12] = "JOIN",
  [0x13] = "PART",
  [0x14] = "TOPIC",
  [0x15] = "ROOMS",
  [0x16] = "NAMES",
  [0x17] = "HISTORY_REQUEST",
  [0x18] = "JOINED",
  [0x19] = "PARTED",
  [0x1a] = "ROOMS_REPLY",
  [0x1b] = "NAMES_REPLY",
  [0x1c] = "HISTORY",
  [0x1d] = "RESUMED",
  [0x1e] = "ACCOUNT",
  [0x1f] = "ACCOUNT_REPLY",
}
local HEADER = 5
-- The protocol's hard upper bound for a frame body (common/frame.ts MAX_MAX_FRAME): a larger length is not ours.
local MAX_FRAME = 16 * 1024 * 1024

local f = {
  length = ProtoField.uint32("chat.length", "Body length", base.DEC),
  type = ProtoField.uint8("chat.type", "Type", base.HEX, TYPES),
  body = ProtoField.string("chat.body", "Body (JSON)"),
  nick = ProtoField.string("chat.nick", "Nick"),
  text = ProtoField.string("chat.text", "Text"),
  seq = ProtoField.uint32("chat.seq", "Heartbeat seq", base.DEC),
  code = ProtoField.string("chat.code", "Error code"),
  room = ProtoField.string("chat.room", "Room"),
}
chat.fields = { f.length, f.type, f.body, f.nick, f.text, f.seq, f.code, f.room }

local malformed = ProtoExpert.new("chat.malformed", "Malformed heartbeat-chat frame", expert.group.MALFORMED, expert.severity.ERROR)
-- Only if a check below missed a case: the error is shown here instead of thrown (a bug to fix).
local dissector_error = ProtoExpert.new("chat.dissector_error", "heartbeat-chat dissector error", expert.group.MALFORMED, expert.severity.ERROR)
chat.experts = { malformed, dissector_error }

local json = Dissector.get("json")

local function member(text, key)
  return text:match('"' .. key .. '"%s*:%s*"([^"]*)"') or text:match('"' .. key .. '"%s*:%s*(%d+)')
end

-- A body length over the protocol's bound is no frame to wait for: the rest of the segment is taken as this
-- frame, then marked malformed (else reassembly would wait for it and swallow the rest of the stream).
local function frame_length(tvb, pinfo, offset)
  if tvb:len() - offset < HEADER then return tvb:len() - offset end
  local len = tvb(offset, 4):uint()
  if len > MAX_FRAME then return tvb:len() - offset end
  return HEADER + len
end

-- A JSON object's shape: "{" ... "}" (white space aside). Not a parser: enough to tell a body that is not JSON.
local function json_object(bytes)
  return bytes:match("^%s*{") ~= nil and bytes:match("}%s*$") ~= nil
end

-- Adds the frame to the tree; returns the Info column's summary of it and, if it is malformed, why.
local function frame_tree(tvb, pinfo, tree)
  if tvb:len() < HEADER then
    local t = tree:add(chat, tvb(), "heartbeat-chat, truncated")
    t:add_proto_expert_info(malformed, "Truncated: " .. tvb:len() .. " bytes, shorter than the " .. HEADER .. "-byte frame header")
    return "truncated frame", "shorter than its header"
  end
  local len = tvb(0, 4):uint()
  local ftype = tvb(4, 1):uint()
  local name = TYPES[ftype] or string.format("type 0x%02x", ftype)
  local t = tree:add(chat, tvb(), "heartbeat-chat " .. name)
  local li = t:add(f.length, tvb(0, 4))
  t:add(f.type, tvb(4, 1))
  local summary = name
  local have = tvb:len() - HEADER
  if len > MAX_FRAME or len > have then
    local why = len > MAX_FRAME and "over the protocol's bound of " .. MAX_FRAME or "only " .. have .. " bytes follow"
    li:add_proto_expert_info(malformed, "Body length " .. len .. ": " .. why)
    return summary, "body length " .. len .. ", " .. why
  end
  if len > 0 then
    local body = tvb(HEADER, len)
    local text = body:string(ENC_UTF_8)
    local bt = t:add(f.body, body, text)
    if not json_object(body:raw()) then
      bt:add_proto_expert_info(malformed, "Body is not a JSON object")
      return summary, "body is not JSON"
    end
    -- The JSON dissector's own complaints are its own (a Lua call of it raises them): shown, not thrown.
    if json then
      local ok, err = pcall(function() json:call(body:tvb(), pinfo, bt) end)
      if not ok then bt:append_text(" [" .. tostring(err) .. "]") end
    end
    for _, key in ipairs({ "nick", "text", "code", "room" }) do
      local v = member(text, key)
      if v then t:add(f[key], body, v) end
    end
    local seq = member(text, "seq")
    if seq and (name == "HEARTBEAT" or name == "HEARTBEAT_ACK") then
      local n = seq:match("^%d+$") and tonumber(seq)
      if not n or n > 0xFFFFFFFF then
        bt:add_proto_expert_info(malformed, "Heartbeat seq is not a number: " .. seq:sub(1, 32))
        return summary, "seq is not a number"
      end
      t:add(f.seq, body, n)
      summary = summary .. " seq=" .. seq
    end
    local who = member(text, "from") or member(text, "nick")
    if who and (name == "CHAT" or name == "DIRECT" or name == "HELLO" or name == "WELCOME") then summary = summary .. " " .. who end
    local code = member(text, "code")
    if code then summary = summary .. " " .. code end
  end
  return summary, nil
end

local function dissect_frame(tvb, pinfo, tree)
  local ok, summary, problem = pcall(frame_tree, tvb, pinfo, tree)
  if not ok then
    local err = tostring(summary)
    pcall(function()
      tree:add(chat, tvb()):add_proto_expert_info(dissector_error, "heartbeat-chat dissector error: " .. err)
    end)
    summary, problem = "frame", "dissector error"
  end
  if problem then summary = summary .. " [Malformed: " .. problem .. "]" end
  pinfo.cols.protocol = "CHAT"
  local prev = tostring(pinfo.cols.info)
  if prev:sub(1, 5) == "CHAT:" then pinfo.cols.info = prev .. ", " .. summary else pinfo.cols.info = "CHAT: " .. summary end
  return tvb:len()
end

function chat.dissector(tvb, pinfo, tree)
  dissect_tcp_pdus(tvb, tree, HEADER, frame_length, dissect_frame)
  return tvb:len()
end

-- The start of a stream that is ours: a known type, a length within the bound, and (when it has come) a JSON body.
local function heuristic(tvb, pinfo, tree)
  if tvb:len() < HEADER then return false end
  local len = tvb(0, 4):uint()
  if len > MAX_FRAME or TYPES[tvb(4, 1):uint()] == nil then return false end
  if tvb:len() > HEADER and len > 0 and tvb(HEADER, 1):uint() ~= 0x7b then return false end
  pinfo.conversation = chat
  chat.dissector(tvb, pinfo, tree)
  return true
end

chat:register_heuristic("tcp", heuristic)
chat:register_heuristic("tls", heuristic)
DissectorTable.get("tcp.port"):add_for_decode_as(chat)

-- The browser page speaks the same frames over a WebSocket (/chat on the web port): one frame per binary
-- message, which Wireshark's WebSocket dissector hands over by port (the chat.ws_port preference; the
-- HTTP upgrade must be decoded as HTTP: a web port other than 80 or 8080 needs Decode As > HTTP).
local chat_ws = Proto("chat_ws", "heartbeat-chat over WebSocket")
chat_ws.prefs.port = Pref.uint("WebSocket port", 9001, "The chat server's web port (--http-port; default: its chat port + 1)")
function chat_ws.dissector(tvb, pinfo, tree)
  return dissect_frame(tvb, pinfo, tree)
end
local ws_table = DissectorTable.get("ws.port")
local ws_port = chat_ws.prefs.port
ws_table:add(ws_port, chat_ws)
function chat_ws.prefs_changed()
  ws_table:remove(ws_port, chat_ws)
  ws_port = chat_ws.prefs.port
  ws_table:add(ws_port, chat_ws)
end
