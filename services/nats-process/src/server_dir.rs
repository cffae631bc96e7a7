//! The server directory: `nats.conf`, `nats-server.log`, the ports-file dir `ports/` and the
//! JetStream store `js/`, all in one place.
//!
//! Either a given directory, kept after the server is gone so the next server reopens the same
//! store, or a fresh temp dir that is removed when dropped. This module never deletes a given
//! directory or anything in it except the ports files the server itself wrote.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::NatsServerError;

/// Where one server keeps its files; a temp dir is removed on drop.
#[derive(Debug)]
pub(crate) struct ServerDir {
    path: PathBuf,
    /// `Some` when the directory is temporary and owned here.
    temp: Option<TempDir>,
}

impl ServerDir {
    /// The directory `path`, created if missing and kept after the server is gone.
    pub(crate) fn kept(path: PathBuf) -> Result<Self, NatsServerError> {
        std::fs::create_dir_all(&path).map_err(|source| NatsServerError::Files {
            path: path.clone(),
            source,
        })?;
        // The config names files by this path and the server may run from another directory: make it absolute.
        let path = std::path::absolute(&path).map_err(|source| NatsServerError::Files {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, temp: None })
    }

    /// A fresh temp dir named after the server, removed when this value is dropped.
    pub(crate) fn temporary(server_name: &str) -> Result<Self, NatsServerError> {
        let prefix = format!("nats-{}-", server_name.replace('/', "_"));
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir()
            .map_err(|source| NatsServerError::Files {
                path: std::env::temp_dir(),
                source,
            })?;
        Ok(Self {
            path: temp.path().to_path_buf(),
            temp: Some(temp),
        })
    }

    /// The directory itself.
    pub(crate) fn path(&self) -> &Path {
        debug_assert!(self.temp.as_ref().is_none_or(|temp| temp.path() == self.path));
        &self.path
    }

    /// The generated server config.
    pub(crate) fn config_path(&self) -> PathBuf {
        self.path.join("nats.conf")
    }

    /// The server's stdout and stderr, appended across restarts.
    pub(crate) fn log_path(&self) -> PathBuf {
        self.path.join("nats-server.log")
    }

    /// Where nats-server writes `<binary>_<pid>.ports` once it has bound every port.
    pub(crate) fn ports_dir(&self) -> PathBuf {
        self.path.join("ports")
    }

    /// The JetStream `store_dir` (nats-server keeps its data in `jetstream/` below it).
    pub(crate) fn store_dir(&self) -> PathBuf {
        self.path.join("js")
    }

    /// Empties the ports-file dir: a SIGKILLed server leaves its ports file behind, and a stale
    /// file must never stand for the next process.
    pub(crate) fn clear_ports_dir(&self) -> Result<(), NatsServerError> {
        let ports_dir = self.ports_dir();
        let error = |source| NatsServerError::Files {
            path: ports_dir.clone(),
            source,
        };
        if ports_dir.exists() {
            std::fs::remove_dir_all(&ports_dir).map_err(error)?;
        }
        std::fs::create_dir_all(&ports_dir).map_err(error)
    }
}
