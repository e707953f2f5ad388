//! The limits of DESIGN §7 (most are GameLift's own), in one place.

/// Largest `maxPlayers` GameLift allows for a game session.
pub const MAX_PLAYERS: u32 = 200;
/// Players in one join request (CreatePlayerSessions takes at most 25 ids).
pub const MAX_PLAYERS_PER_JOIN: usize = 25;
/// Characters in a player id.
pub const PLAYER_ID_MAX: usize = 1024;
/// Characters in a player's data string.
pub const PLAYER_DATA_MAX: usize = 2048;
/// Game properties per session.
pub const PROPERTIES_MAX: usize = 16;
/// Characters in a game property key.
pub const PROPERTY_KEY_MAX: usize = 32;
/// Characters in a game property value.
pub const PROPERTY_VALUE_MAX: usize = 96;
/// Characters in a game session name.
pub const NAME_MAX: usize = 1024;
/// Characters in a game session's data.
pub const DATA_MAX: usize = 262_144;
/// Latency entries in one create.
pub const LATENCIES_MAX: usize = 200;
/// Largest latency a client may report, in milliseconds.
pub const LATENCY_MS_MAX: u32 = 60_000;
/// Regions a create may restrict placement to.
pub const REGIONS_MAX: usize = 10;
/// Bytes in a request body.
pub const BODY_MAX_BYTES: usize = 300 * 1024;
/// Characters in a list query.
pub const QUERY_MAX: usize = 1024;
/// Page size bounds of a list.
pub const LIMIT_MIN: u32 = 1;
/// Largest page of a list.
pub const LIMIT_MAX: u32 = 100;
/// Page size when the client gives none.
pub const LIMIT_DEFAULT: u32 = 20;
/// Characters in a placement id (GameLift: 1–48 of `[A-Za-z0-9-]`).
pub const PLACEMENT_ID_MAX: usize = 48;
/// Characters in an idempotency key.
pub const IDEMPOTENCY_KEY_MAX: usize = 128;
/// How long GameLift keeps a player session RESERVED before it times out.
pub const SEAT_RESERVATION_SECS: i64 = 60;
/// How long an ended session's tombstone is kept (well past any late event: SQS retention is ≤ 14 days).
pub const TOMBSTONE_SECS: i64 = 15 * 24 * 3600;
/// Bytes in a DynamoDB partition key value (a list index's region or fleet partition); the least is 1.
pub const PARTITION_KEY_MAX_BYTES: usize = 2048;
/// Bytes in a DynamoDB sort key value (a list index's sort key); the least is 1.
pub const SORT_KEY_MAX_BYTES: usize = 1024;
