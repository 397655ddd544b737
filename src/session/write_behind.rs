//! Writing a run's saves on a thread of its own, so the run does not wait for the disk.
//!
//! Each save is the whole session file, written atomically ([`write_atomic`]: a temporary file,
//! flushed to disk, renamed over the target). For a 9x320 run that is 46 MB after every epoch;
//! writing and flushing it took 0.15-0.25 s here (strace of a resumed 200-epoch run), during
//! which the training thread sat idle: about 5 % of a late epoch, and 40-50 s of each 9x320 run
//! in the grid. On a thread of its own the next epoch trains meanwhile. Only the newest save
//! matters (each holds everything an older one does), so a save still queued when a newer one
//! arrives is skipped.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::fs::{Existing, WriteError, write_atomic};

/// One save for the thread: the file's whole text and its number (counted from 1).
struct Job {
    text: Arc<String>,
    save: u64,
}

/// The thread's report after each write: the save it wrote and how that went.
struct Written {
    save: u64,
    result: Result<(), WriteError>,
}

/// A thread that writes the saves of one file in order, skipping any that a newer one has
/// replaced before its turn. Dropping it waits for the newest save to be written.
#[derive(Debug)]
pub struct WriteBehind {
    path: PathBuf,
    /// None once dropping (closing the channel ends the thread).
    jobs: Option<Sender<Job>>,
    written: Receiver<Written>,
    /// Saves handed to the thread.
    sent: u64,
    /// The newest save the thread has reported on.
    done: u64,
    /// The first failure reported and not yet returned.
    failed: Option<WriteError>,
    thread: Option<JoinHandle<()>>,
}

impl WriteBehind {
    /// Starts the thread that will write `path`.
    ///
    /// # Errors
    /// The operating system's, when it cannot start a thread.
    pub fn new(path: PathBuf) -> std::io::Result<Self> {
        let (jobs, queue) = unbounded::<Job>();
        let (report, written) = unbounded();
        let target = path.clone();
        let thread = std::thread::Builder::new()
            .name("session-save".into())
            .spawn(move || {
                while let Ok(mut job) = queue.recv() {
                    while let Ok(newer) = queue.try_recv() {
                        job = newer;
                    }
                    let result = write_atomic(&target, job.text.as_bytes(), Existing::Replace);
                    let save = job.save;
                    // Let go of the text before reporting, so the run can extend it in place.
                    drop(job);
                    if report.send(Written { save, result }).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            path,
            jobs: Some(jobs),
            written,
            sent: 0,
            done: 0,
            failed: None,
            thread: Some(thread),
        })
    }

    /// Hands the file's whole `text` to the thread and returns at once.
    ///
    /// # Errors
    /// The first failure of an earlier save that the thread reported since the last error was
    /// returned (the file on disk is then an older save, whole). If the thread has gone, the
    /// text is written here instead, with that write's error.
    pub fn write(&mut self, text: Arc<String>) -> Result<(), WriteError> {
        self.sent += 1;
        let job = Job {
            text,
            save: self.sent,
        };
        let unsent = match &self.jobs {
            Some(jobs) => jobs.send(job).err().map(|e| e.into_inner()),
            None => Some(job),
        };
        if let Some(job) = unsent {
            self.done = job.save;
            write_atomic(&self.path, job.text.as_bytes(), Existing::Replace)?;
        }
        self.collect(false)
    }

    /// Waits until every save handed over has been written.
    ///
    /// # Errors
    /// As [`Self::write`]: the first failure not yet returned.
    pub fn wait(&mut self) -> Result<(), WriteError> {
        self.collect(true)
    }

    /// Takes the thread's reports (waiting for all when `block`) and returns the first failure.
    fn collect(&mut self, block: bool) -> Result<(), WriteError> {
        loop {
            let next = if block && self.done < self.sent {
                self.written.recv().ok()
            } else {
                self.written.try_recv().ok()
            };
            let Some(w) = next else { break };
            self.done = w.save;
            if let Err(e) = w.result {
                self.failed.get_or_insert(e);
            }
        }
        self.failed.take().map_or(Ok(()), Err)
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has written the newest save.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_save_is_on_disk_after_wait_and_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ron");
        let mut w = WriteBehind::new(path.clone()).unwrap();
        for i in 0..50 {
            w.write(Arc::new(format!("save {i}"))).unwrap();
        }
        w.wait().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "save 49");
        w.write(Arc::new("last".into())).unwrap();
        drop(w);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "last");
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_save_is_reported_once_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("gone");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("run.ron");
        let mut w = WriteBehind::new(path.clone()).unwrap();
        w.write(Arc::new("first".into())).unwrap();
        w.wait().unwrap();
        // The target becomes a folder: the next save cannot replace it.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let _ = w.write(Arc::new("second".into()));
        let err = w.wait().unwrap_err();
        assert!(err.to_string().contains("run.ron"), "{err}");
        // Reported once: the next successful save clears it.
        std::fs::remove_dir(&path).unwrap();
        w.write(Arc::new("third".into())).unwrap();
        w.wait().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third");
    }
}
