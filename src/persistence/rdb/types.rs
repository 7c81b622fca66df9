//! The RDB format's fixed numbers (Redis's `rdb.h`): file magic, opcodes,
//! object types and string encodings. Pure constants.

/// `RDB_VERSION` of Redis 7.0: what tessera writes, and the newest it reads.
pub const RDB_VERSION: u16 = 10;

/// The first five bytes of every RDB file; four version digits follow.
pub const MAGIC: &[u8; 5] = b"REDIS";

// Opcodes (`RDB_OPCODE_*`): one byte where a key's type byte would be.
pub const OP_FUNCTION2: u8 = 245;
pub const OP_FUNCTION: u8 = 246;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;

// Object types (`RDB_TYPE_*`).
pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Redis 7.2+ (RDB 11): a set as a listpack, and streams version 3. Never in
/// a file or payload of version 10 or older.
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

// Length prefixes (`RDB_6BITLEN` …): the top two bits of the first byte.
pub const LEN_6BIT: u8 = 0;
pub const LEN_14BIT: u8 = 1;
pub const LEN_32BIT: u8 = 0x80;
pub const LEN_64BIT: u8 = 0x81;
/// Top bits `11`: a specially encoded string follows (`RDB_ENCVAL`).
pub const LEN_ENCVAL: u8 = 3;

// String encodings after `LEN_ENCVAL` (`RDB_ENC_*`).
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// Quicklist node containers in `TYPE_LIST_QUICKLIST_2`
/// (`QUICKLIST_NODE_CONTAINER_*`): one element as is, or a listpack.
pub const CONTAINER_PLAIN: u64 = 1;
pub const CONTAINER_PACKED: u64 = 2;

// Special lengths of a textual double in `TYPE_ZSET` (`rdbSaveDoubleValue`).
pub const DOUBLE_NAN: u8 = 253;
pub const DOUBLE_POS_INF: u8 = 254;
pub const DOUBLE_NEG_INF: u8 = 255;
