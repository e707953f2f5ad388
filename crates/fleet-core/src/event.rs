//! Placement events (DESIGN §5). Owned by the event-parsing work in progress.
