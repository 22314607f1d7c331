use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

use super::{Session, SessionClient, RETRY};
use crate::BoxFuture;

/// Writes what a node needs beside it (persistent records) before the node itself, in every
/// session.
pub(super) type Prepare = Arc<dyn Fn(SessionClient) -> BoxFuture<'static, Result<(), zk::Error>> + Send + Sync>;

/// An ephemeral node to keep: its path, its data, and what to write before it.
pub(super) struct Node {
    pub(super) path: String,
    pub(super) data: Vec<u8>,
    pub(super) prepare: Option<Prepare>,
}

impl Node {
    pub(super) fn empty(path: String) -> Node {
        Node { path, data: Vec::new(), prepare: None }
    }
}

/// Keeps the ephemeral `node` in every session until stopped, then deletes it. The node is
/// watched, so one deleted or changed under a live session is written again.
pub(super) async fn keep_node(
    mut sessions: watch::Receiver<Session>,
    node: Node,
    stop: CancellationToken,
    written: watch::Sender<bool>,
) {
    let path = node.path.as_str();
    let parent = path.rsplit_once('/').map_or("/", |(p, _)| p).to_string();
    let mut current = None;
    let mut node_watch = None;
    loop {
        let session = sessions.borrow_and_update().clone();
        if let Some((generation, client)) = session {
            if current != Some(generation) {
                let prepared = match &node.prepare {
                    Some(prepare) => prepare(client.clone()).await,
                    None => Ok(()),
                };
                let outcome = match prepared {
                    Ok(()) => write_ephemeral(&client, &parent, path, &node.data).await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(watcher) => {
                        current = Some(generation);
                        node_watch = Some(Box::pin(watcher.changed()));
                        let _ = written.send(true);
                        tracing::debug!(%path, generation, "registered in zookeeper");
                    }
                    Err(e) => tracing::warn!(%path, error = %e, "zookeeper registration failed; retrying"),
                }
            }
        }
        let retry = current.is_none();
        tokio::select! {
            _ = stop.cancelled() => break,
            changed = sessions.changed() => if changed.is_err() { break },
            () = tokio::time::sleep(RETRY), if retry => {}
            event = async { node_watch.as_mut().expect("watched").await }, if node_watch.is_some() => {
                // Deleted, changed, or its session disturbed: check it again in this session.
                tracing::debug!(%path, ?event, "zookeeper node changed; writing it again");
                node_watch = None;
                current = None;
            }
        }
    }
    let session = sessions.borrow().clone();
    if let Some((_, client)) = session {
        let _ = client.delete(path, None).await;
    }
}

/// Writes the ephemeral node at `path` in `client`'s session and watches it. A node left by
/// an earlier session of ours is replaced, not taken as ours: after an outage the server
/// restores the old session with its nodes, and deletes them when that session expires, which
/// would take the registration with it.
async fn write_ephemeral(
    client: &SessionClient,
    parent: &str,
    path: &str,
    data: &[u8],
) -> Result<zk::OneshotWatcher, zk::Error> {
    let persistent = client.persistent();
    let ephemeral = client.ephemeral();
    match client.mkdir(parent, &persistent).await {
        Ok(()) | Err(zk::Error::NodeExists) => {}
        Err(e) => return Err(e),
    }
    // A Java provider subscribes to its service's configurators (dynamic configuration),
    // which makes that directory; Dubbo consumers read it and fail when it is missing.
    if let Some(service) = parent.strip_suffix("/providers") {
        match client.mkdir(&format!("{service}/configurators"), &persistent).await {
            Ok(()) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    let ours = client.session_id().0;
    // A few rounds: each ends with the node ours, or with a stale one deleted (or gone).
    for _ in 0..5 {
        let created = match client.create(path, data, &ephemeral).await {
            Ok(_) => true,
            Err(zk::Error::NodeExists) => false,
            Err(e) => return Err(e),
        };
        let (stat, watcher) = client.check_and_watch_stat(path).await?;
        match stat {
            Some(stat) if stat.ephemeral_owner == ours => {
                if !created && !data.is_empty() {
                    // Ours from before, maybe with other data (a re-registration): update it.
                    drop(watcher);
                    client.set_data(path, data, Some(stat.version)).await?;
                    let (_, watcher) = client.check_and_watch_stat(path).await?;
                    return Ok(watcher);
                }
                return Ok(watcher);
            }
            Some(stat) => match client.delete(path, Some(stat.version)).await {
                Ok(()) | Err(zk::Error::NoNode) | Err(zk::Error::BadVersion) => {
                    tracing::debug!(%path, owner = stat.ephemeral_owner, "replaced a node of an earlier session");
                }
                Err(e) => return Err(e),
            },
            None => {}
        }
    }
    Err(zk::Error::NodeExists)
}
