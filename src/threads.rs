//! Values computed on another thread and collected later.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// How many threads can run at once, as the standard library counts them
/// (CPUs allowed and the cgroup's quota); 1 when it cannot tell.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A value another thread is computing.
pub struct Pending<T>(Option<Receiver<T>>);

impl<T> Pending<T> {
    /// A value that will never come.
    pub fn none() -> Pending<T> {
        Pending(None)
    }

    /// A value to be sent with the returned sender. If the sender is
    /// dropped unsent (the work never ran or failed), waiting gives None.
    pub fn channel() -> (SyncSender<T>, Pending<T>) {
        let (tx, rx) = sync_channel(1);
        (tx, Pending(Some(rx)))
    }

    /// The value, once sent.
    pub fn wait(self) -> Option<T> {
        self.0?.recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_values_arrive_or_not() {
        let (tx, p) = Pending::channel();
        std::thread::spawn(move || tx.send(5).unwrap());
        assert_eq!(p.wait(), Some(5));
        let (tx, p) = Pending::<i32>::channel();
        std::thread::spawn(move || drop(tx));
        assert_eq!(p.wait(), None);
        assert_eq!(Pending::<i32>::none().wait(), None);
        assert!(available() >= 1);
    }
}
