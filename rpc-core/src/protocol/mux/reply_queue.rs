use tokio::sync::mpsc;

/// A server connection's queue of replies from calls that outlived their first poll and from
/// the protocol's own tasks (streams), made when the first of them needs it.
///
/// Most connections never use it: their calls finish on their first poll and reply inline.
/// tokio's channel allocates its first block of 32 slots when it is made, and a slot holds a
/// whole frame (216 bytes for the binary protocol): made up front, the queue was a fifth of
/// an idle connection's memory (at 10,000 idle connections the server's RSS per connection
/// fell from 23.1 to 18.5 KiB when it became lazy).
pub(crate) struct ReplyQueue<T> {
    capacity: usize,
    channel: Option<(mpsc::Sender<T>, mpsc::Receiver<T>)>,
}

impl<T> ReplyQueue<T> {
    /// A queue of at most `capacity` replies (backpressure on the calls), not yet made.
    pub(crate) fn new(capacity: usize) -> Self {
        ReplyQueue { capacity: capacity.max(1), channel: None }
    }

    /// Where replies are sent; makes the queue on first use.
    pub(crate) fn sender(&mut self) -> &mpsc::Sender<T> {
        &self.channel.get_or_insert_with(|| mpsc::channel(self.capacity)).0
    }

    /// The next reply; pending forever while the queue has not been made.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        match &mut self.channel {
            Some((_, receiver)) => receiver.recv().await,
            None => std::future::pending().await,
        }
    }

    /// The queue's receiving end, once it exists.
    pub(crate) fn receiver(&mut self) -> Option<&mut mpsc::Receiver<T>> {
        self.channel.as_mut().map(|(_, receiver)| receiver)
    }

    /// Drops the connection's own sender: the queue ends once every task holding a clone has
    /// sent its reply. Returns the receiver to drain, if the queue was ever made.
    pub(crate) fn close_sending(self) -> Option<mpsc::Receiver<T>> {
        self.channel.map(|(_, receiver)| receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::ReplyQueue;

    #[tokio::test]
    async fn the_queue_is_made_on_first_use_and_ends_when_its_senders_are_gone() {
        let mut queue = ReplyQueue::<u32>::new(4);
        assert!(queue.receiver().is_none(), "nothing is allocated up front");
        assert!(queue.close_sending().is_none());

        let mut queue = ReplyQueue::<u32>::new(4);
        let task_sender = queue.sender().clone();
        queue.sender().send(1).await.expect("open");
        tokio::spawn(async move { task_sender.send(2).await.expect("open") });
        let mut receiver = queue.close_sending().expect("made");
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(receiver.recv().await, Some(2));
        assert_eq!(receiver.recv().await, None, "ends with the last sender");
    }

    #[tokio::test]
    async fn recv_waits_while_the_queue_was_never_made() {
        let mut queue = ReplyQueue::<u32>::new(1);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), queue.recv()).await;
        assert!(waited.is_err(), "no queue, no replies: recv stays pending");
    }
}
