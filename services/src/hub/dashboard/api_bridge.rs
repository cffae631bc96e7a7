//! The dashboard reads and acts only through the hub API, as the signed-in user: the HTTP side (multi-threaded,
//! `Send`) hands each call to [`serve`], which runs on the hub's own thread beside the API and calls the very
//! endpoint the CLI would — same role check, same views, same writes. The user is looked up in the trust root at
//! every call: a revoked credential, or one issued again since the sign-in, is refused; a changed role applies at
//! once.

use super::passes::Pass;
use crate::api_types::ApiError;
use crate::hub::api::ApiContext;
use fleet_trust::Caller;
use serde::de::DeserializeOwned;
use std::rc::Rc;
use tokio::sync::{mpsc, oneshot};

/// Calls waiting at most; beyond, a page answers 503 at once instead of queueing.
const QUEUE: usize = 256;

/// One API call on behalf of a signed-in user.
struct BridgedCall {
    pass: Pass,
    endpoint: &'static str,
    body: serde_json::Value,
    reply: oneshot::Sender<Result<serde_json::Value, ApiError>>,
}

/// The HTTP side's handle.
#[derive(Clone)]
pub struct ApiBridge {
    calls: mpsc::Sender<BridgedCall>,
}

/// The signed-in user as the trust root knows them now.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Name and role.
    pub caller: Caller,
}

impl ApiBridge {
    /// A bridge and the receiving end for [`serve`].
    pub fn new() -> (Self, BridgeRequests) {
        let (calls, requests) = mpsc::channel(QUEUE);
        (Self { calls }, BridgeRequests(requests))
    }

    /// Calls `endpoint` with `body` as the user of `pass`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        pass: &Pass,
        endpoint: &'static str,
        body: serde_json::Value,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let call = BridgedCall {
            pass: pass.clone(),
            endpoint,
            body,
            reply,
        };
        self.calls
            .try_send(call)
            .map_err(|_| ApiError::unavailable("the hub is busy: try again"))?;
        let value = answer
            .await
            .map_err(|_| ApiError::unavailable("the hub is stopping"))??;
        serde_json::from_value(value).map_err(|e| ApiError::internal(format!("reading the API's answer: {e}")))
    }

    /// Who the user of `pass` is now (refused if revoked or re-issued).
    pub async fn whoami(&self, pass: &Pass) -> Result<SignedIn, ApiError> {
        let (name, role): (String, String) = self.call(pass, WHOAMI, serde_json::Value::Null).await?;
        let name = events::Token::new(&name).map_err(|e| ApiError::internal(e.to_string()))?;
        let role = role.parse().map_err(|e| ApiError::internal(format!("{e}")))?;
        Ok(SignedIn {
            caller: Caller {
                name,
                role,
                public_key: pass.public_key.clone(),
            },
        })
    }
}

/// A pseudo endpoint: the caller's name and role, answered by the bridge itself.
const WHOAMI: &str = "dashboard.whoami";

/// The receiving end of an [`ApiBridge`].
pub struct BridgeRequests(mpsc::Receiver<BridgedCall>);

/// Answers bridged calls on the hub's thread until every [`ApiBridge`] is gone.
pub async fn serve(context: Rc<ApiContext>, BridgeRequests(mut calls): BridgeRequests) {
    while let Some(call) = calls.recv().await {
        let context = context.clone();
        actix_rt::spawn(async move {
            let result = answer(&context, &call.pass, call.endpoint, call.body).await;
            let _ = call.reply.send(result);
        });
    }
}

async fn answer(
    context: &ApiContext,
    pass: &Pass,
    endpoint: &'static str,
    body: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let caller = caller_of(context, pass)?;
    if endpoint == WHOAMI {
        return Ok(serde_json::json!([caller.name.to_string(), caller.role.to_string()]));
    }
    let body = match body {
        serde_json::Value::Null => bytes::Bytes::new(),
        body => bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    };
    crate::hub::api::call_as(context, &caller, endpoint, &body).await
}

/// The user of `pass` as the trust root holds them: same credential, not revoked.
fn caller_of(context: &ApiContext, pass: &Pass) -> Result<Caller, ApiError> {
    let record = context
        .trust
        .user_record(&pass.user)
        .map_err(|e| ApiError::internal(format!("reading the user record: {e}")))?
        .ok_or_else(|| ApiError::unauthorized(format!("no user {}: sign in again", pass.user)))?;
    if record.revoked_at_s.is_some() || record.public_key != pass.public_key {
        return Err(ApiError::unauthorized(format!(
            "the credential {} signed in with was revoked or replaced: sign in again",
            pass.user
        )));
    }
    Ok(Caller {
        name: record.name,
        role: record.role,
        public_key: record.public_key,
    })
}
