//! The dashboard's pages, as plain functions from the API's views to HTML.

pub mod first_screen;
pub mod fleet_tables;
pub mod history_page;
pub mod layout;
pub mod node_page;
pub mod rollout_pages;
pub mod sparkline;
