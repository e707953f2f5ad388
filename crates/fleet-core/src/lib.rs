//! fleetlift's domain core: no AWS and no Lambda crates, so it builds in seconds and is tested in isolation.
//!
//! Everything that decides something lives here: what a valid input is ([`ids`], [`input`]), which state
//! changes are allowed ([`model`]), how placement events are read ([`event`]), how a list query is parsed,
//! evaluated and planned ([`query`]), how the one table is indexed ([`index`]), and the ports the adapters
//! implement ([`ports`]) with in-memory fakes of them ([`fakes`]).

pub mod auth;
pub mod error;
pub mod event;
pub mod fakes;
pub mod ids;
pub mod index;
pub mod input;
pub mod limits;
pub mod model;
pub mod ports;
pub mod query;
pub mod request;
pub mod rules;
pub mod time;

pub use error::FieldError;
