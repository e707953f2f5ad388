//! The limits of docs/architecture.md#limits (most are GameLift's own), in one place, and the size budgets they give.
//!
//! # Size budgets
//!
//! Every item this system writes must fit DynamoDB's 400 KB with room, and every WebSocket message
//! API Gateway's 128 KB, for every input the limits allow; otherwise a valid create could never be
//! recorded (and its event would be retried forever). The per-field limits alone allow far more (200
//! players × (1,024 + 2,048) characters, 262,144 characters of data, up to 4 UTF-8 bytes each), so the
//! bound that holds is the request body's, [`BODY_MAX_BYTES`] (307,200 bytes):
//!
//! | Item | What can fill it | Largest |
//! |---|---|---|
//! | placement, created | one create body: stored values never take more bytes than their JSON (no escapes, shorter separators; each of the ≤ 410 lists and maps costs at most 2 bytes more), plus its requester (≤ 4 KB) and ≈ 0.5 KB of keys, status, times and index attributes | ≈ 313 KB |
//! | placement, finished | the above plus the player sessions, stored as `{<22-character digest of the player id>: <player session id>}` (the ids are already in `players`; repeating them could double 200 KB of ids) and a reason cut to [`REASON_MAX`] | ≈ 330 KB |
//! | session | data from one body (a create's or a report's, ≤ 300 KB), a name (≤ 4 KB) and 16 properties (≤ 8 KB) possibly from another, ≈ 2 KB of address, ids and index keys | ≈ 322 KB |
//! | pending report | likewise, from one or two report bodies | ≈ 322 KB |
//! | seat, idempotency record, connection, subscription, pending count | a player id (≤ 4 KB) and fixed fields | < 8 KB |
//!
//! All stay under [`ITEM_BUDGET_BYTES`] (360 KB), 40 KB short of DynamoDB's limit. A push carries the
//! session, whose data alone may be 300 KB: a message over [`PUSH_MAX_BYTES`] goes out without the
//! session's `data` (and says so); the rest of it is under 25 KB. Tests fill every field to its limit
//! on DynamoDB Local, and a property test checks the budgets for generated valid requests.

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
/// Characters of a placement's stored `reason` (GameLift's own failure text can be long).
pub const REASON_MAX: usize = 1024;
/// DynamoDB's largest item (attribute names and values, UTF-8).
pub const DYNAMODB_ITEM_MAX_BYTES: usize = 400 * 1024;
/// What every item this system writes stays under: DynamoDB's limit less 40 KB of room (see the
/// module docs for the derivation).
pub const ITEM_BUDGET_BYTES: usize = 360 * 1024;
/// The largest message API Gateway's PostToConnection sends to a WebSocket client.
pub const PUSH_MAX_BYTES: usize = 128 * 1024;
