//! Black-box tests of the auth service: the app on a random port, a fresh database per test,
//! against the real MongoDB-wire server (FerretDB) started by scripts/backing-services.sh.

mod common_behaviour;
mod current_user;
mod helpers;
mod hostile;
mod signin;
mod signout;
mod signup;
mod startup;
mod throttle;
