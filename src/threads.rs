//! Helper threads that start at once, on another CPU.
//!
//! Linux queues a new thread on the CPU of the thread that created it, and
//! wakes a thread where it last ran. An idle CPU should take such work
//! over, but on the two-vCPU machines this tool is measured on it often
//! did not for one to several milliseconds: a thread created beside a busy
//! creator started 1.3 to 1.5 ms later, and a render's threads took turns
//! on one CPU while the other idled. Each of our helpers has 0.3 to 3 ms of
//! work, so they mostly ran one after the other.
//!
//! So the creator restricts the new thread, before it runs, to another CPU
//! it may use, and goes on; the thread allows itself the creator's CPUs
//! again once it runs there. Where that call fails, the creator yields its
//! CPU until the new thread has started, and the thread moves itself. On
//! other systems threads start as usual.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{Builder, JoinHandle, Scope, ScopedJoinHandle};

/// How many threads can run at once, as the standard library counts them
/// (CPUs allowed, and the cgroup's CPU quota), counted once: reading the
/// quota costs tens of microseconds of file reads, which a helper thread
/// can spend ahead of the render that asks.
pub fn available() -> usize {
    static COUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *COUNT.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Starts `f` on a new thread and returns once it runs. None when the
/// system would not create a thread: callers then do the work themselves.
pub fn spawn<T, F>(f: F) -> Option<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (start, started) = Start::new();
    let handle = Builder::new()
        .spawn(move || {
            start.begin();
            f()
        })
        .ok()?;
    #[cfg(target_os = "linux")]
    let placed = {
        use std::os::unix::thread::JoinHandleExt;
        started.place(handle.as_pthread_t())
    };
    #[cfg(not(target_os = "linux"))]
    let placed = false;
    if !placed {
        started.wait(|| handle.is_finished());
    }
    Some(handle)
}

/// Work for a [`Helper`]: its lifetime is erased while it is in transit
/// (see [`Helper::beside`]).
type Work = Box<dyn FnOnce() + Send + 'static>;

/// A helper thread that, once its first work is done, can take one more
/// piece of work borrowing from its caller, as a scoped thread would,
/// without the cost of starting a thread then (about 0.1 ms of the
/// caller's time here, and a wait for a CPU).
pub struct Helper {
    give: SyncSender<Work>,
    done: Receiver<std::thread::Result<()>>,
}

impl Helper {
    /// Starts `first` on a new thread (as [`spawn`]). None when the system
    /// would not create one; `first` has then not run.
    pub fn spawn(first: impl FnOnce() + Send + 'static) -> Option<Helper> {
        let (give, take) = sync_channel::<Work>(1);
        let (report, done) = sync_channel(1);
        spawn(move || {
            use std::panic::{catch_unwind, AssertUnwindSafe};
            // Nothing unwinds past here: the work is always run or dropped
            // before the report, which `beside` relies on.
            let _ = catch_unwind(AssertUnwindSafe(first));
            if let Ok(work) = recv_soon(&take) {
                let ran = catch_unwind(AssertUnwindSafe(work));
                let _ = report.send(ran);
            }
        })?;
        Some(Helper { give, done })
    }

    /// Runs `work` on the helper thread and `here` on this one, and
    /// returns once both are done: `work`'s result (Err holds its panic)
    /// and `here`'s. `work` may borrow from the caller: this function does
    /// not return, nor unwind, before the helper has finished with it.
    pub fn beside<'a, A: Send + 'a, B>(
        self,
        work: impl FnOnce() -> A + Send + 'a,
        here: impl FnOnce() -> B,
    ) -> (std::thread::Result<A>, B) {
        let mut out: Option<A> = None;
        let slot = &mut out;
        let boxed: Work = erase(Box::new(move || *slot = Some(work())));
        let sent = match self.give.send(boxed) {
            Ok(()) => true,
            // The helper is gone: the work comes back, unrun, and is
            // dropped here, with its borrows still valid.
            Err(back) => {
                drop(back);
                false
            }
        };
        let ran_here = std::panic::catch_unwind(std::panic::AssertUnwindSafe(here));
        let ran_there = if sent {
            // A helper that ends without a report dropped the work unrun.
            recv_soon(&self.done).unwrap_or_else(|_| Err(Box::new("the helper thread ended")))
        } else {
            Err(Box::new("the helper thread ended") as _)
        };
        let here = match ran_here {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (
            ran_there.map(|()| out.expect("work that ran sets its result")),
            here,
        )
    }
}

/// `work` as a [`Work`].
fn erase<'b>(work: Box<dyn FnOnce() + Send + 'b>) -> Work {
    // SAFETY: only the lifetime changes, and only [`Helper::beside`] calls
    // this. The helper runs or drops the work before it reports on `done`;
    // `beside` returns (or unwinds) only after that report, or once the
    // helper is known to be gone without the work (it came back unsent,
    // or the report channel closed, which happens only after the helper
    // dropped it). So nothing the work borrows is used after it ends.
    unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'b>, Work>(work) }
}

/// How a new thread gets off its creator's CPU: not yet decided, placed
/// on another CPU by its creator, or left to move itself.
const UNDECIDED: u8 = 0;
const PLACED: u8 = 1;
const NOT_PLACED: u8 = 2;

/// What a new thread and its creator share while it starts.
struct Handover {
    creator_cpu: Option<usize>,
    /// The CPUs the creator may use, which the new thread takes again.
    allowed: Option<cpu::Set>,
    started: AtomicBool,
    placement: AtomicU8,
}

/// The new thread's side of the hand-over. If its creator placed it on
/// another CPU before it ran, it allows itself the creator's CPUs again;
/// otherwise it tells its creator it has started, then moves off the
/// creator's CPU.
struct Start(Arc<Handover>);

/// The creator's side: places the new thread, or waits until it has
/// started.
struct Started(Arc<Handover>);

impl Start {
    fn new() -> (Start, Started) {
        let shared = Arc::new(Handover {
            creator_cpu: cpu::current(),
            allowed: cpu::allowed(),
            started: AtomicBool::new(false),
            placement: AtomicU8::new(UNDECIDED),
        });
        (Start(shared.clone()), Started(shared))
    }

    fn begin(self) {
        let h = &self.0;
        // The creator decides right after creating this thread; until then
        // this thread may only run elsewhere, or if its creator yields.
        let placement = loop {
            match h.placement.load(Ordering::Acquire) {
                UNDECIDED => std::thread::yield_now(),
                p => break p,
            }
        };
        if placement != PLACED {
            h.started.store(true, Ordering::Release);
        }
        if let Some(allowed) = &h.allowed {
            if placement == PLACED {
                cpu::allow(allowed);
            } else if let Some(avoid) = h.creator_cpu {
                cpu::move_off(avoid, allowed);
            }
        }
    }
}

impl Started {
    /// Asks the system to run `thread`, created but not yet started, on
    /// another CPU than this one: the creator then goes on at once, where
    /// it would otherwise yield its CPU until the thread has started and
    /// moved itself (about 0.1 ms here). True when placed.
    #[cfg(target_os = "linux")]
    fn place(&self, thread: libc::pthread_t) -> bool {
        let h = &self.0;
        let placed = match (h.creator_cpu, &h.allowed) {
            (Some(c), Some(allowed)) => cpu::place(thread, c, allowed),
            _ => false,
        };
        h.placement
            .store(if placed { PLACED } else { NOT_PLACED }, Ordering::Release);
        placed
    }

    /// Yields this thread's CPU until the new thread has started (or
    /// `ended`). A yield keeps the CPU awake, where blocking lets an idle
    /// vCPU halt, and waking it again cost 100 to 250 us on the machines
    /// measured. It spins only while this CPU has nothing else to run: any
    /// other runnable thread goes first. (Sleeping between checks after a
    /// millisecond was tried: no faster, and 0.3 ms slower in two
    /// interleaved comparisons.)
    fn wait(self, ended: impl Fn() -> bool) {
        self.0.placement.store(NOT_PLACED, Ordering::Release);
        while !self.0.started.load(Ordering::Acquire) && !ended() {
            std::thread::yield_now();
        }
    }
}

/// A value another thread is computing. Waiting for it does not wait for
/// that thread to end (which costs a few hundred microseconds more).
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
        recv_soon(&self.0?).ok()
    }
}

/// How long [`recv_soon`] yields before it blocks.
const YIELD_FOR: std::time::Duration = std::time::Duration::from_millis(20);

/// Receives from `rx`, yielding this thread's CPU between checks (as in
/// [`Started::wait`]: a thread that blocks lets its idle vCPU halt, and the
/// wake-up took 0.1 to 4 ms when measured, while the value usually comes
/// within a millisecond). Past [`YIELD_FOR`] it blocks, so a long wait
/// does not keep a CPU busy.
pub fn recv_soon<T>(rx: &Receiver<T>) -> Result<T, std::sync::mpsc::RecvError> {
    use std::sync::mpsc::TryRecvError;
    let start = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(v) => return Ok(v),
            Err(TryRecvError::Disconnected) => return Err(std::sync::mpsc::RecvError),
            Err(TryRecvError::Empty) if start.elapsed() < YIELD_FOR => std::thread::yield_now(),
            Err(TryRecvError::Empty) => return rx.recv(),
        }
    }
}

/// Work started by [`spawn_scoped`]: on its own thread, or already done
/// on the caller's when the system would not create one.
pub enum Task<'scope, T> {
    Thread {
        handle: ScopedJoinHandle<'scope, ()>,
        result: Receiver<T>,
    },
    Done(T),
}

impl<T> Task<'_, T> {
    /// The work's result; an error holds the panic of its thread.
    ///
    /// It does not wait for the thread to exit, which costs about 0.1 ms
    /// more here: the result comes through a channel, and the caller yields
    /// its CPU until the thread's closure has returned (as in
    /// [`Started::wait`], a blocked caller would be slow to wake), then
    /// lets the thread end on its own. Only a thread that sent nothing
    /// (it panicked) is joined, for its panic.
    pub fn join(self) -> std::thread::Result<T> {
        let (handle, result) = match self {
            Task::Thread { handle, result } => (handle, result),
            Task::Done(v) => return Ok(v),
        };
        if let Ok(v) = recv_soon(&result) {
            // The scope's end waits for the closure to return; the send is
            // its last step, so this is short.
            while !handle.is_finished() {
                std::thread::yield_now();
            }
            return Ok(v);
        }
        handle.join()?;
        Err(Box::new("the helper thread was given no work"))
    }
}

/// [`spawn`] within a scope, for work that borrows from the caller. The
/// work is handed over once the thread exists, so that without a thread
/// it still runs, here.
pub fn spawn_scoped<'scope, T, F>(scope: &'scope Scope<'scope, '_>, f: F) -> Task<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    let (give, take) = sync_channel::<F>(1);
    let (send_result, result) = sync_channel::<T>(1);
    let (start, started) = Start::new();
    let spawned = Builder::new().spawn_scoped(scope, move || {
        start.begin();
        if let Ok(f) = take.recv() {
            // Buffered: never blocks, and fails only if the caller is gone.
            let _ = send_result.send(f());
        }
    });
    let Ok(handle) = spawned else {
        return Task::Done(f());
    };
    // Buffered: the thread finds it when it starts. It can only fail if
    // the thread is gone, and then the work is still here to run.
    if let Err(back) = give.send(f) {
        return Task::Done((back.0)());
    }
    started.wait(|| handle.is_finished());
    Task::Thread { handle, result }
}

#[cfg(target_os = "linux")]
mod cpu {
    use std::mem::{size_of, zeroed};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The CPU the calling thread runs on.
    pub fn current() -> Option<usize> {
        // SAFETY: no arguments; returns -1 on failure.
        usize::try_from(unsafe { libc::sched_getcpu() }).ok()
    }

    /// A set of CPUs.
    pub type Set = libc::cpu_set_t;

    /// The CPUs the calling thread may use.
    pub fn allowed() -> Option<Set> {
        // SAFETY: cpu_set_t is a plain bit set, valid all zero; the call
        // gets its true size and reads the calling thread's (pid 0).
        unsafe {
            let mut allowed: Set = zeroed();
            (libc::sched_getaffinity(0, size_of::<Set>(), &mut allowed) == 0).then_some(allowed)
        }
    }

    /// A CPU of `allowed` other than `avoid`, taking turns when there are
    /// several.
    fn other(allowed: &Set, avoid: usize) -> Option<usize> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let others: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: reads a bit of the set, within its size.
            .filter(|&c| c != avoid && unsafe { libc::CPU_ISSET(c, allowed) })
            .collect();
        if others.is_empty() {
            return None;
        }
        Some(others[NEXT.fetch_add(1, Ordering::Relaxed) % others.len()])
    }

    /// Restricts `thread`, created by the caller (which runs on `avoid`
    /// and may use `allowed`), to another CPU of `allowed`. True when done.
    pub fn place(thread: libc::pthread_t, avoid: usize, allowed: &Set) -> bool {
        let Some(target) = other(allowed, avoid) else {
            return false;
        };
        // SAFETY: as in `allowed`; `thread` was created by the caller and
        // is not yet joined, so its handle is valid.
        unsafe { libc::pthread_setaffinity_np(thread, size_of::<Set>(), &only(target)) == 0 }
    }

    /// The set of CPU `cpu` alone.
    fn only(cpu: usize) -> Set {
        // SAFETY: a plain bit set, valid all zero; `cpu` is below
        // CPU_SETSIZE (it came from a set).
        unsafe {
            let mut one: Set = zeroed();
            libc::CPU_SET(cpu, &mut one);
            one
        }
    }

    /// Lets the calling thread use the CPUs `allowed` (a placed thread
    /// keeps to one only until it has started there).
    pub fn allow(allowed: &Set) {
        // SAFETY: as in `allowed`; acts on the calling thread only.
        unsafe {
            libc::sched_setaffinity(0, size_of::<Set>(), allowed);
        }
    }

    /// Moves the calling thread to a CPU of `allowed` other than `avoid`
    /// (taking turns when there are several), then allows it all of
    /// `allowed` again: the move is only where it starts.
    pub fn move_off(avoid: usize, allowed: &Set) {
        let Some(target) = other(allowed, avoid) else {
            return;
        };
        // SAFETY: as in `allowed`; acts on the calling thread only.
        if unsafe { libc::sched_setaffinity(0, size_of::<Set>(), &only(target)) } == 0 {
            allow(allowed);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod cpu {
    pub fn current() -> Option<usize> {
        None
    }

    pub type Set = ();

    pub fn move_off(_: usize, _: &Set) {}

    pub fn allowed() -> Option<Set> {
        None
    }

    pub fn allow(_: &Set) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value sent soon, one sent after the yielding phase (received by
    /// blocking), and a sender gone without sending.
    #[test]
    fn recv_soon_gets_early_and_late_values_and_sees_a_closed_channel() {
        for delay in [std::time::Duration::ZERO, YIELD_FOR * 2] {
            let (tx, rx) = sync_channel(1);
            let t = std::thread::spawn(move || {
                std::thread::sleep(delay);
                tx.send(7).unwrap();
            });
            assert_eq!(recv_soon(&rx), Ok(7));
            t.join().unwrap();
        }
        let (tx, rx) = sync_channel::<u8>(1);
        drop(tx);
        assert!(recv_soon(&rx).is_err());
        let (tx, rx) = sync_channel::<u8>(1);
        let t = std::thread::spawn(move || {
            std::thread::sleep(YIELD_FOR * 2);
            drop(tx);
        });
        assert!(recv_soon(&rx).is_err());
        t.join().unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_moved_thread_keeps_every_cpu_it_had() {
        fn allowed() -> usize {
            // SAFETY: as in `cpu::move_off`.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
                libc::CPU_COUNT(&set) as usize
            }
        }
        let before = allowed();
        let (after, on) = spawn(|| (allowed(), cpu::current()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(after, before);
        assert!(on.is_some());
    }

    #[test]
    fn results_and_panics_come_back_through_join() {
        assert_eq!(spawn(|| 7).unwrap().join().unwrap(), 7);
        // The panic message is expected in the test output.
        let h = spawn(|| -> i32 { panic!("a helper thread failing on purpose") });
        assert!(h.unwrap().join().is_err());
    }

    #[test]
    fn pending_values_arrive_or_not() {
        let (tx, p) = Pending::channel();
        spawn(move || tx.send(5).unwrap());
        assert_eq!(p.wait(), Some(5));
        let (tx, p) = Pending::<i32>::channel();
        spawn(move || drop(tx));
        assert_eq!(p.wait(), None);
        assert_eq!(Pending::<i32>::none().wait(), None);
    }

    #[test]
    fn a_helper_takes_borrowing_work_after_its_first() {
        let (tx, first_ran) = Pending::channel();
        let helper = Helper::spawn(move || tx.send(1).unwrap()).unwrap();
        let data = [1, 2, 3];
        let (there, here) = helper.beside(|| data.iter().sum::<i32>(), || data.len());
        assert_eq!((there.unwrap(), here), (6, 3));
        assert_eq!(first_ran.wait(), Some(1));
        // A panic there comes back as an error; here, it unwinds after the
        // helper is done.
        let helper = Helper::spawn(|| {}).unwrap();
        let (there, ()) = helper.beside(|| -> i32 { panic!("on purpose, there") }, || {});
        assert!(there.is_err());
        let helper = Helper::spawn(|| {}).unwrap();
        let mut seen = false;
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            helper.beside(|| seen = true, || panic!("on purpose, here"))
        }));
        assert!(caught.is_err() && seen);
    }

    #[test]
    fn scoped_threads_borrow() {
        let data = [1, 2, 3];
        let sum = std::thread::scope(|s| spawn_scoped(s, || data.iter().sum::<i32>()).join());
        assert_eq!(sum.unwrap(), 6);
        let failed =
            std::thread::scope(|s| spawn_scoped(s, || -> i32 { panic!("on purpose") }).join());
        assert!(failed.is_err());
    }
}
