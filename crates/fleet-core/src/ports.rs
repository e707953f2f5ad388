//! Ports: the capabilities the handlers need from the outside world.
