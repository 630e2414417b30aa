//! Black-box tests of the REST API live in `tests/`.
