//! Who calls in the tests: one account, the backend service, a game server of each of two fleets,
//! a stranger, and the JWT issuer players' tokens come from (the values of the sample events).

/// The account of every principal.
pub const ACCOUNT: &str = "123456789012";
/// The backend service's role, as the configuration names it.
pub const SERVICE_ROLE: &str = "arn:aws:iam::123456789012:role/fleetlift-backend";
/// The backend service, as its STS session ARN arrives.
pub const SERVICE: &str = "arn:aws:sts::123456789012:assumed-role/fleetlift-backend/matchmaker-1";
/// The game-server role of fleet [`F1`].
pub const GS_F1_ROLE: &str = "arn:aws:iam::123456789012:role/fleetlift-game-server";
/// A game server of fleet [`F1`] (the samples' game server).
pub const GS_F1: &str =
    "arn:aws:sts::123456789012:assumed-role/fleetlift-game-server/i-0a1b2c3d4e5f60718";
/// The game-server role of fleet [`F2`].
pub const GS_F2_ROLE: &str = "arn:aws:iam::123456789012:role/other-game-server";
/// A game server of fleet [`F2`].
pub const GS_F2: &str =
    "arn:aws:sts::123456789012:assumed-role/other-game-server/i-0f0e0d0c0b0a09080";
/// An IAM principal configured as nothing.
pub const STRANGER: &str = "arn:aws:iam::123456789012:user/someone";
/// Fleet F1 (the samples' fleet).
pub const F1: &str = "fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31";
/// Fleet F2.
pub const F2: &str = "fleet-99999999-8888-4777-8666-555555555555";
/// A player's `sub` (the one in the samples).
pub const PLAYER_A: &str = "player-7f3c2a";
/// Another player.
pub const PLAYER_B: &str = "player-b";
/// The JWT issuer players' tokens come from.
pub const ISSUER: &str = "https://auth.example.com/";
/// The JWT audience.
pub const AUDIENCE: &str = "fleetlift-players";
/// The HS256 secret of the tests' tokens.
pub const JWT_SECRET: &str = "reliability-hs256-secret-0123456789";
