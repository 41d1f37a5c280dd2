//! Writes to SQLite take turns in this process.
//!
//! SQLite lets one connection write at a time. The others poll for the lock, sleeping longer
//! and longer between tries (up to 100 ms), and under the answer writer's back-to-back group
//! commits they kept missing the gaps: a job claim or a job's bookkeeping waited seconds
//! while the queue grew. Every write in this process therefore first takes a turn here, in
//! the order asked, and finds the lock free. SQLite's busy timeout still covers other
//! processes (`hark import` beside `hark serve`). PostgreSQL locks rows, not the database, and
//! takes no turns.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Dialect, Result, StoreError};

/// As long as SQLite's own busy timeout: a write that waits longer fails as it would there.
const WAIT: Duration = Duration::from_secs(10);

/// The turns of one database's writers (shared by a store and its answer writer).
#[derive(Clone)]
pub(crate) struct WriteTurns {
    dialect: Dialect,
    turns: Option<Arc<Mutex<()>>>,
}

impl WriteTurns {
    pub(crate) fn new(dialect: Dialect) -> WriteTurns {
        WriteTurns { dialect, turns: (dialect == Dialect::Sqlite).then(Arc::default) }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn take(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        self.take_within(WAIT).await
    }

    async fn take_within(&self, wait: Duration) -> Result<Option<OwnedMutexGuard<()>>> {
        let Some(turns) = &self.turns else { return Ok(None) };
        match tokio::time::timeout(wait, turns.clone().lock_owned()).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => Err(StoreError::Busy),
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails at
    /// once with SQLITE_BUSY, without waiting, when another connection committed in between.
    pub(crate) async fn begin(&self, pool: &AnyPool) -> Result<WriteTx> {
        let turn = self.take().await?;
        Ok(Turn { conn: pool.begin_with(self.begin_statement()).await?, _turn: turn })
    }

    /// The same on a connection of the caller's own (the answer writer's), which no pool hands
    /// out and pings on its way back: under load those round trips to SQLite's thread waited
    /// for that thread to be scheduled, up to 2.7 ms a batch, about as long as its INSERTs took.
    pub(crate) async fn begin_on<'c>(&self, conn: &'c mut AnyConnection) -> Result<Turn<Transaction<'c, Any>>> {
        let turn = self.take().await?;
        Ok(Turn { conn: conn.begin_with(self.begin_statement()).await?, _turn: turn })
    }

    fn begin_statement(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// A connection for one writing statement, which commits on its own.
    pub(crate) async fn one(&self, pool: &AnyPool) -> Result<OneWrite> {
        let turn = self.take().await?;
        Ok(Turn { conn: pool.acquire().await?, _turn: turn })
    }
}

/// A connection, or a transaction, holding this process's turn until it is dropped.
pub(crate) struct Turn<C> {
    conn: C,
    _turn: Option<OwnedMutexGuard<()>>,
}

/// A write transaction: the turn lasts until it commits or is dropped (rolled back).
pub(crate) type WriteTx = Turn<Transaction<'static, Any>>;
/// A pooled connection for one statement, which commits on its own.
pub(crate) type OneWrite = Turn<PoolConnection<Any>>;

impl Turn<Transaction<'_, Any>> {
    pub(crate) async fn commit(self) -> Result<()> {
        Ok(self.conn.commit().await?)
    }
}

impl<C: DerefMut<Target = AnyConnection>> Deref for Turn<C> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl<C: DerefMut<Target = AnyConnection>> DerefMut for Turn<C> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_taken_in_the_order_asked() {
        let turns = WriteTurns::new(Dialect::Sqlite);
        let first = turns.take().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..3 {
            let (turns, order) = (turns.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = turns.take().await.unwrap();
                order.lock().unwrap().push(n);
            }));
            // Each asks after the one before.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(order.lock().unwrap().is_empty(), "nobody writes beside the holder");
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn a_writer_kept_waiting_too_long_is_told_the_database_is_busy() {
        let turns = WriteTurns::new(Dialect::Sqlite);
        let _held = turns.take().await.unwrap();
        let waited = turns.take_within(Duration::from_millis(50)).await;
        assert!(matches!(waited, Err(StoreError::Busy)));
    }

    #[tokio::test]
    async fn postgres_takes_no_turns() {
        let turns = WriteTurns::new(Dialect::Postgres);
        let _held = turns.take().await.unwrap();
        assert!(turns.take().await.unwrap().is_none());
    }
}
