mod admin;
mod auth;
mod blog;
mod cache;
mod debug;
mod faults;
mod helpers;
