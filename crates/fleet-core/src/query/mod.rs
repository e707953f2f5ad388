//! The list query language (DESIGN §4). Owned by the query-language work in progress.
