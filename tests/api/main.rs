mod admin;
mod auth;
mod blog;
mod cache;
mod cli;
mod debug;
mod faults;
mod helpers;
