//! SIGTERM, as a tuning engine (Ray Tune) sends it to stop a trial: the command abandons the
//! step it is in (checkpoints are written to a temporary folder and renamed, so the last one is
//! intact whatever the moment), says so (an `interrupted` event) and exits with status 143, the
//! shell's code for a process ended by SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fusecast_pipeline::events::{Event, Sink};

static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: libc::c_int) {
    // Only an atomic store: nothing else is async-signal-safe here.
    TERMINATED.store(true, Ordering::SeqCst);
}

/// Installs the handler; a watcher thread reports and exits soon after the signal arrives
/// (within 20 ms, also while the command waits on stdin or inside a training step).
pub fn exit_on_sigterm(sink: &'static (dyn Sink + Send + Sync)) {
    let handler: extern "C" fn(libc::c_int) = on_sigterm;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(20));
        if TERMINATED.load(Ordering::SeqCst) {
            sink.emit(Event::Interrupted {
                signal: "SIGTERM".into(),
            });
            std::process::exit(143);
        }
    });
}

/// SIGTERM when the parent process dies (Linux), for a command driven by another process (a
/// Ray worker) that must not outlive it; elsewhere the end of stdin does the same at the next
/// epoch.
pub fn die_with_parent() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and has no other effect.
        let parent = unsafe { libc::getppid() };
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        }
        // The parent may have died before the call: then no signal would ever come.
        if unsafe { libc::getppid() } != parent {
            TERMINATED.store(true, Ordering::SeqCst);
        }
    }
}
