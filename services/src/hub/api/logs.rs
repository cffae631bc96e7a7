//! `logs.list`: the log lines of a site's agents and of its site process, read from the hub's copy of the site's
//! telemetry stream (`crate::log_pages`), oldest first, a page at a time.

use super::context::Call;
use super::sites::known;
use crate::api_types::requests::LogQuery;
use crate::api_types::views::LogPage;
use crate::api_types::ApiError;
use crate::log_pages::{read_log_page, LogPageError};

/// `logs.list`.
pub async fn list(context: &Call<'_>, request: LogQuery) -> Result<LogPage, ApiError> {
    known(context, &request.site)?;
    let account = context.directory.account(&request.site).ok_or_else(|| {
        ApiError::unavailable(format!(
            "the hub is not connected to site {}'s account yet",
            request.site
        ))
    })?;
    read_log_page(&account.js, &request).await.map_err(|e| match e {
        LogPageError::BadRequest(why) => ApiError::bad_request(why),
        unavailable @ LogPageError::Unavailable { .. } => ApiError::unavailable(unavailable.to_string()),
    })
}
