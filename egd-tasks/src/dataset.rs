//! The [`Dataset`] trait shared by all tasks, split iteration, and seeded
//! epochs of minibatches.
//!
//! Everything here is a small `Copy` value: iterating a split or an epoch
//! keeps a cursor, never a table (sizes in the [crate docs](crate#memory)).

use crate::error::{TaskError, check_range, wide};
use crate::mix;
use crate::perm::Permutation;
use core::iter::FusedIterator;
use core::num::NonZeroU32;

/// Which half of a task's examples.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Split};
/// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
/// assert_eq!(task.split_len(Split::Train), 60);
/// assert_eq!(task.split_len(Split::Test), 61);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training set.
    Train,
    /// The held-out test set.
    Test,
}

/// What an epoch does with the last `train_len % batch_size` examples.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
/// let task = ModularTask::new(11, Op::Add, 0.5, 0)?; // 60 training examples
/// assert_eq!(task.epoch(0, 16, Remainder::Drop)?.batch_count(), 3);
/// assert_eq!(task.epoch(0, 16, Remainder::Keep)?.batch_count(), 4);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Remainder {
    /// Leave them out of this epoch: `⌊train_len / batch_size⌋` full batches
    /// (the paper's setting). Which examples are left out changes from epoch
    /// to epoch, because the whole training set is reshuffled.
    #[default]
    Drop,
    /// Keep them as a last, smaller batch: `⌈train_len / batch_size⌉`
    /// batches.
    Keep,
}

/// A task whose examples are computed from a seed and an index.
///
/// Implemented by [`ModularTask`](crate::ModularTask) and
/// [`SparseParity`](crate::SparseParity). The required methods give random
/// access; the provided ones build iterators and shuffled epochs on top, in
/// O(1) memory. Lengths must lie in `0..=u32::MAX` for the provided methods
/// (longer splits are cut at `u32::MAX`).
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op};
/// let task = ModularTask::new(7, Op::Mul, 0.5, 3)?;
/// let total = task.train_examples().count() + task.test_examples().count();
/// assert_eq!(total, 49);
/// assert_eq!(task.train_example(task.train_len()), None);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
pub trait Dataset {
    /// One example, by value (small and `Copy`).
    type Example: Copy;

    /// The seed the task was built from; epochs derive their shuffles from
    /// `(seed, epoch)`.
    fn seed(&self) -> u64;

    /// Number of training examples.
    fn train_len(&self) -> usize;

    /// Number of test examples.
    fn test_len(&self) -> usize;

    /// Training example `i`, or `None` if `i >= train_len()`.
    fn train_example(&self, i: usize) -> Option<Self::Example>;

    /// Test example `i`, or `None` if `i >= test_len()`.
    fn test_example(&self, i: usize) -> Option<Self::Example>;

    /// Number of examples in `split`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity, Split};
    /// let task = SparseParity::new(10, 2, 100, 50, 0)?;
    /// assert_eq!(task.split_len(Split::Test), 50);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn split_len(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train_len(),
            Split::Test => self.test_len(),
        }
    }

    /// Example `i` of `split`, or `None` if out of range.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Split};
    /// let task = ModularTask::new(5, Op::Sub, 0.5, 0)?;
    /// assert_eq!(task.example(Split::Test, 0), task.test_example(0));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn example(&self, split: Split, i: usize) -> Option<Self::Example> {
        match split {
            Split::Train => self.train_example(i),
            Split::Test => self.test_example(i),
        }
    }

    /// All examples of `split`, in index order.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Split};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// assert_eq!(task.examples(Split::Train).len(), 12);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn examples(&self, split: Split) -> Examples<'_, Self>
    where
        Self: Sized,
    {
        Examples {
            data: self,
            split,
            pos: 0,
            end: clamp_u32(self.split_len(split)),
        }
    }

    /// All training examples, in index order (unshuffled).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// for ex in task.train_examples() {
    ///     assert_eq!(ex.label(), (ex.a() + ex.b()) % 5);
    /// }
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn train_examples(&self) -> Examples<'_, Self>
    where
        Self: Sized,
    {
        self.examples(Split::Train)
    }

    /// All test examples, in index order (for evaluation).
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity};
    /// let task = SparseParity::new(20, 3, 100, 1000, 0)?;
    /// let positive = task.test_examples().filter(|ex| ex.label() > 0).count();
    /// assert!(positive > 400 && positive < 600);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn test_examples(&self) -> Examples<'_, Self>
    where
        Self: Sized,
    {
        self.examples(Split::Test)
    }

    /// Epoch number `epoch`: the training set in a fresh pseudo-random order
    /// determined by `(seed, epoch)`, cut into minibatches of `batch_size`.
    ///
    /// # Errors
    ///
    /// [`TaskError::OutOfRange`] naming `batch_size` unless
    /// `1 <= batch_size <= train_len`, or naming `train_len` if the training
    /// set is empty or longer than `u32::MAX` (only possible for a custom
    /// [`Dataset`]).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(127, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 512, Remainder::Drop)?;
    /// assert_eq!(epoch.batch_count(), 15); // ⌊8064 / 512⌋, as in the paper
    /// for batch in epoch.batches() {
    ///     for ex in batch {
    ///         let [i, j] = ex.two_hot(); // active inputs of the first layer
    ///         assert!(i < 127 && (127..254).contains(&j));
    ///     }
    /// }
    /// assert!(task.epoch(0, 0, Remainder::Drop).is_err());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    fn epoch(
        &self,
        epoch: u64,
        batch_size: usize,
        remainder: Remainder,
    ) -> Result<Epoch<'_, Self>, TaskError>
    where
        Self: Sized,
    {
        Epoch::new(self, epoch, batch_size, remainder)
    }
}

#[inline]
fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Iterator over one split of a [`Dataset`], in index order.
///
/// Created by [`Dataset::examples`], [`Dataset::train_examples`] and
/// [`Dataset::test_examples`]. Holds a reference and two `u32` cursors
/// (24 bytes on 64-bit targets, 16 on 32-bit ones).
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op};
/// let task = ModularTask::new(3, Op::Add, 0.5, 0)?;
/// let mut it = task.test_examples();
/// assert_eq!(it.len(), 5);
/// it.next();
/// assert_eq!(it.len(), 4);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Examples<'d, D> {
    data: &'d D,
    split: Split,
    pos: u32,
    end: u32,
}

impl<D: Dataset> Iterator for Examples<'_, D> {
    type Item = D::Example;

    #[inline]
    fn next(&mut self) -> Option<D::Example> {
        if self.pos >= self.end {
            return None;
        }
        let ex = self.data.example(self.split, self.pos as usize);
        self.pos += 1;
        ex
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.pos) as usize;
        (n, Some(n))
    }

    #[inline]
    fn nth(&mut self, n: usize) -> Option<D::Example> {
        let left = (self.end - self.pos) as usize;
        if n >= left {
            self.pos = self.end;
            return None;
        }
        self.pos += n as u32;
        self.next()
    }
}

impl<D: Dataset> DoubleEndedIterator for Examples<'_, D> {
    #[inline]
    fn next_back(&mut self) -> Option<D::Example> {
        if self.pos >= self.end {
            return None;
        }
        self.end -= 1;
        self.data.example(self.split, self.end as usize)
    }
}

impl<D: Dataset> ExactSizeIterator for Examples<'_, D> {}
impl<D: Dataset> FusedIterator for Examples<'_, D> {}

/// One pass over the training set in a seeded order, cut into minibatches.
///
/// Position `j` of the epoch (`0..example_count()`) holds training example
/// [`train_index(j)`](Epoch::train_index), where the map is a
/// [`Permutation`] of `0..train_len` keyed by `(seed, epoch)`. Batch `b`
/// holds positions `b·batch_size ..` up to the next batch. Nothing is stored:
/// the epoch is 32 bytes on 64-bit targets and 28 on 32-bit ones, and each
/// example costs one permutation evaluation on top of the task's own random
/// access.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
/// let task = ModularTask::new(23, Op::Add, 0.5, 1)?;
/// let epoch = task.epoch(7, 64, Remainder::Drop)?;
/// assert_eq!((epoch.batch_count(), epoch.example_count()), (4, 256));
/// // The same example three ways.
/// let ex = epoch.batch(1).unwrap().get(2).unwrap();
/// assert_eq!(epoch.batch_example(1, 2), Some(ex));
/// assert_eq!(epoch.example(64 + 2), Some(ex));
/// assert_eq!(task.train_example(epoch.train_index(66).unwrap()), Some(ex));
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug)]
pub struct Epoch<'d, D> {
    data: &'d D,
    perm: Permutation,
    // Non-zero by type, so divisions by it have no panic path.
    batch_size: NonZeroU32,
    used: u32,
}

// Manual impls: `D` itself need not be `Clone` for a reference to be copied.
impl<D> Clone for Epoch<'_, D> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for Epoch<'_, D> {}

impl<'d, D: Dataset> Epoch<'d, D> {
    /// Same as [`Dataset::epoch`].
    ///
    /// # Errors
    ///
    /// As [`Dataset::epoch`].
    ///
    /// ```
    /// use egd_tasks::{Epoch, Remainder, SparseParity};
    /// let task = SparseParity::new(50, 4, 2000, 10_000, 0)?;
    /// let epoch = Epoch::new(&task, 3, 32, Remainder::Drop)?;
    /// assert_eq!(epoch.batch_count(), 62);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    pub fn new(
        data: &'d D,
        epoch: u64,
        batch_size: usize,
        remainder: Remainder,
    ) -> Result<Self, TaskError> {
        let n = data.train_len();
        check_range("train_len", wide(n), 1, u64::from(u32::MAX))?;
        check_range("batch_size", wide(batch_size), 1, wide(n))?;
        let n = n as u32;
        let Some(batch_size) = NonZeroU32::new(batch_size as u32) else {
            // Unreachable after the range check; kept as an error, not a panic.
            return Err(TaskError::OutOfRange {
                name: "batch_size",
                value: 0,
                min: 1,
                max: u64::from(n),
            });
        };
        let used = match remainder {
            Remainder::Drop => n - n % batch_size,
            Remainder::Keep => n,
        };
        let key = mix::splitmix(mix::key(data.seed(), mix::TAG_EPOCH), epoch);
        Ok(Self {
            data,
            perm: Permutation::from_key(n, key),
            batch_size,
            used,
        })
    }

    /// The dataset this epoch reads from.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// assert_eq!(task.epoch(0, 4, Remainder::Drop)?.dataset().p(), 5);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn dataset(&self) -> &'d D {
        self.data
    }

    /// The minibatch size (the last batch may be smaller with
    /// [`Remainder::Keep`]).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// assert_eq!(task.epoch(0, 4, Remainder::Drop)?.batch_size(), 4);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn batch_size(&self) -> usize {
        self.batch_size.get() as usize
    }

    /// Number of minibatches in this epoch.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity, Remainder};
    /// let task = SparseParity::new(400, 2, 2000, 10_000, 0)?;
    /// assert_eq!(task.epoch(0, 32, Remainder::Drop)?.batch_count(), 62);
    /// assert_eq!(task.epoch(0, 32, Remainder::Keep)?.batch_count(), 63);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn batch_count(&self) -> usize {
        (self.used / self.batch_size + u32::from(self.used % self.batch_size != 0)) as usize
    }

    /// Number of training examples this epoch visits (`train_len`, minus the
    /// remainder if it is dropped).
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity, Remainder};
    /// let task = SparseParity::new(400, 2, 2000, 10_000, 0)?;
    /// assert_eq!(task.epoch(0, 32, Remainder::Drop)?.example_count(), 1984);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn example_count(&self) -> usize {
        self.used as usize
    }

    /// The training-set index at position `j` of the epoch, or `None` if
    /// `j >= example_count()`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 12, Remainder::Drop)?;
    /// let mut seen = [false; 12];
    /// for j in 0..12 {
    ///     seen[epoch.train_index(j).unwrap()] = true;
    /// }
    /// assert!(seen.iter().all(|&s| s));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn train_index(&self, j: usize) -> Option<usize> {
        let j = u32::try_from(j).ok().filter(|&j| j < self.used)?;
        Some(self.perm.apply_u32(j) as usize)
    }

    /// The example at position `j` of the epoch, or `None` if
    /// `j >= example_count()`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 5, Remainder::Drop)?;
    /// assert!(epoch.example(9).is_some());
    /// assert!(epoch.example(10).is_none()); // 12 % 5 = 2 examples dropped
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn example(&self, j: usize) -> Option<D::Example> {
        self.data.train_example(self.train_index(j)?)
    }

    /// Example `j` of batch `b`, or `None` if either is out of range.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 5, Remainder::Drop)?;
    /// assert!(epoch.batch_example(1, 4).is_some());
    /// assert!(epoch.batch_example(1, 5).is_none());
    /// assert!(epoch.batch_example(2, 0).is_none());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn batch_example(&self, b: usize, j: usize) -> Option<D::Example> {
        self.batch(b)?.get(j)
    }

    /// Batch `b`, or `None` if `b >= batch_count()`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(5, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 5, Remainder::Keep)?;
    /// assert_eq!(epoch.batch(2).unwrap().len(), 2);
    /// assert!(epoch.batch(3).is_none());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn batch(&self, b: usize) -> Option<Batch<'d, D>> {
        let b = u32::try_from(b).ok()?;
        let size = self.batch_size.get();
        let start = b.checked_mul(size).filter(|&s| s < self.used)?;
        Some(Batch {
            epoch: *self,
            start,
            len: (self.used - start).min(size),
        })
    }

    /// The minibatches, in order.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(23, Op::Mul, 0.5, 0)?;
    /// let epoch = task.epoch(0, 100, Remainder::Keep)?;
    /// let sizes: Vec<usize> = epoch.batches().map(|b| b.len()).collect();
    /// assert_eq!(sizes, [100, 100, 64]);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn batches(&self) -> Batches<'d, D> {
        Batches {
            epoch: *self,
            next: 0,
        }
    }

    /// All examples of the epoch in order (the batches concatenated).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(23, Op::Mul, 0.5, 0)?;
    /// let epoch = task.epoch(0, 100, Remainder::Drop)?;
    /// assert_eq!(epoch.examples().count(), 200);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn examples(&self) -> EpochExamples<'d, D> {
        EpochExamples {
            epoch: *self,
            pos: 0,
            end: self.used,
        }
    }
}

/// Iterator over the minibatches of an [`Epoch`], created by
/// [`Epoch::batches`] (an epoch plus a counter: 40 bytes on 64-bit targets,
/// 32 on 32-bit ones).
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
/// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
/// let batches = task.epoch(0, 8, Remainder::Drop)?.batches();
/// assert_eq!(batches.len(), 7);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug)]
pub struct Batches<'d, D> {
    epoch: Epoch<'d, D>,
    next: u32,
}

impl<D> Clone for Batches<'_, D> {
    #[inline]
    fn clone(&self) -> Self {
        Self {
            epoch: self.epoch,
            next: self.next,
        }
    }
}

impl<'d, D: Dataset> Iterator for Batches<'d, D> {
    type Item = Batch<'d, D>;

    #[inline]
    fn next(&mut self) -> Option<Batch<'d, D>> {
        let b = self.epoch.batch(self.next as usize)?;
        self.next += 1;
        Some(b)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.epoch.batch_count().saturating_sub(self.next as usize);
        (n, Some(n))
    }
}

impl<D: Dataset> ExactSizeIterator for Batches<'_, D> {}
impl<D: Dataset> FusedIterator for Batches<'_, D> {}

/// One minibatch of an [`Epoch`]: a range of epoch positions.
///
/// Iterate it (by value or with [`Batch::iter`]) to get its examples, or pick
/// one with [`Batch::get`]. 40 bytes on 64-bit targets, 36 on 32-bit ones.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
/// let task = ModularTask::new(97, Op::Mul, 0.5, 0)?;
/// let epoch = task.epoch(0, 512, Remainder::Drop)?;
/// let batch = epoch.batch(0).unwrap();
/// let mut correct = 0;
/// for ex in batch {
///     // ... forward pass on ex.two_hot(), compare with ex.label() ...
///     correct += usize::from(ex.label() == ex.a() * ex.b() % 97);
/// }
/// assert_eq!(correct, batch.len());
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug)]
pub struct Batch<'d, D> {
    epoch: Epoch<'d, D>,
    start: u32,
    len: u32,
}

impl<D> Clone for Batch<'_, D> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for Batch<'_, D> {}

impl<'d, D: Dataset> Batch<'d, D> {
    /// The batch's number within its epoch.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 8, Remainder::Drop)?;
    /// assert_eq!(epoch.batch(3).unwrap().index(), 3);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn index(&self) -> usize {
        (self.start / self.epoch.batch_size) as usize
    }

    /// Number of examples in the batch.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// assert_eq!(task.epoch(0, 8, Remainder::Drop)?.batch(0).unwrap().len(), 8);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Always `false`: an epoch never yields an empty batch.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// assert!(!task.epoch(0, 8, Remainder::Drop)?.batch(0).unwrap().is_empty());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Training-set index of the batch's `j`-th example, or `None` if
    /// `j >= len()`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// let epoch = task.epoch(0, 8, Remainder::Drop)?;
    /// assert_eq!(epoch.batch(1).unwrap().train_index(0), epoch.train_index(8));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn train_index(&self, j: usize) -> Option<usize> {
        let j = u32::try_from(j).ok().filter(|&j| j < self.len)?;
        Some(self.epoch.perm.apply_u32(self.start + j) as usize)
    }

    /// The batch's `j`-th example, or `None` if `j >= len()`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// let batch = task.epoch(0, 8, Remainder::Drop)?.batch(0).unwrap();
    /// assert!(batch.get(7).is_some() && batch.get(8).is_none());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn get(&self, j: usize) -> Option<D::Example> {
        self.epoch.data.train_example(self.train_index(j)?)
    }

    /// The batch's examples, in order.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
    /// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
    /// let batch = task.epoch(0, 8, Remainder::Drop)?.batch(0).unwrap();
    /// assert_eq!(batch.iter().count(), 8);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn iter(&self) -> EpochExamples<'d, D> {
        EpochExamples {
            epoch: self.epoch,
            pos: self.start,
            end: self.start + self.len,
        }
    }
}

impl<'d, D: Dataset> IntoIterator for Batch<'d, D> {
    type Item = D::Example;
    type IntoIter = EpochExamples<'d, D>;

    #[inline]
    fn into_iter(self) -> EpochExamples<'d, D> {
        self.iter()
    }
}

impl<'d, D: Dataset> IntoIterator for &Batch<'d, D> {
    type Item = D::Example;
    type IntoIter = EpochExamples<'d, D>;

    #[inline]
    fn into_iter(self) -> EpochExamples<'d, D> {
        self.iter()
    }
}

/// Iterator over a range of epoch positions, yielding examples in shuffled
/// order. Created by [`Epoch::examples`] and [`Batch::iter`]. 40 bytes on
/// 64-bit targets, 36 on 32-bit ones.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op, Remainder};
/// let task = ModularTask::new(11, Op::Add, 0.5, 0)?;
/// let mut it = task.epoch(0, 8, Remainder::Drop)?.examples();
/// assert_eq!(it.len(), 56);
/// assert!(it.next().is_some());
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug)]
pub struct EpochExamples<'d, D> {
    epoch: Epoch<'d, D>,
    pos: u32,
    end: u32,
}

impl<D> Clone for EpochExamples<'_, D> {
    #[inline]
    fn clone(&self) -> Self {
        Self {
            epoch: self.epoch,
            pos: self.pos,
            end: self.end,
        }
    }
}

impl<D: Dataset> Iterator for EpochExamples<'_, D> {
    type Item = D::Example;

    #[inline]
    fn next(&mut self) -> Option<D::Example> {
        if self.pos >= self.end {
            return None;
        }
        let i = self.epoch.perm.apply_u32(self.pos);
        self.pos += 1;
        self.epoch.data.train_example(i as usize)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.pos) as usize;
        (n, Some(n))
    }

    #[inline]
    fn nth(&mut self, n: usize) -> Option<D::Example> {
        let left = (self.end - self.pos) as usize;
        if n >= left {
            self.pos = self.end;
            return None;
        }
        self.pos += n as u32;
        self.next()
    }
}

impl<D: Dataset> DoubleEndedIterator for EpochExamples<'_, D> {
    #[inline]
    fn next_back(&mut self) -> Option<D::Example> {
        if self.pos >= self.end {
            return None;
        }
        self.end -= 1;
        self.epoch
            .data
            .train_example(self.epoch.perm.apply_u32(self.end) as usize)
    }
}

impl<D: Dataset> ExactSizeIterator for EpochExamples<'_, D> {}
impl<D: Dataset> FusedIterator for EpochExamples<'_, D> {}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::{ModularTask, Op, SparseParity};
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn epoch_visits_every_training_index_once() {
        let task = ModularTask::new(31, Op::Add, 0.4, 9).unwrap();
        let n = task.train_len();
        for remainder in [Remainder::Drop, Remainder::Keep] {
            for bs in [1, 7, 64, n] {
                let epoch = task.epoch(3, bs, remainder).unwrap();
                let mut seen = vec![false; n];
                let mut count = 0;
                for batch in epoch.batches() {
                    assert!(batch.len() <= bs && !batch.is_empty());
                    for j in 0..batch.len() {
                        let i = batch.train_index(j).unwrap();
                        assert!(!seen[i]);
                        seen[i] = true;
                        count += 1;
                    }
                }
                let expect = match remainder {
                    Remainder::Drop => n - n % bs,
                    Remainder::Keep => n,
                };
                assert_eq!(count, expect);
                assert_eq!(epoch.example_count(), expect);
            }
        }
    }

    #[test]
    fn iterators_agree_with_random_access() {
        let task = ModularTask::new(13, Op::Div, 0.5, 2).unwrap();
        let epoch = task.epoch(1, 10, Remainder::Keep).unwrap();
        let flat: Vec<_> = epoch.examples().collect();
        let batched: Vec<_> = epoch.batches().flatten().collect();
        assert_eq!(flat, batched);
        let by_index: Vec<_> = (0..epoch.example_count())
            .map(|j| epoch.example(j).unwrap())
            .collect();
        assert_eq!(flat, by_index);
        let mut back: Vec<_> = epoch.examples().rev().collect();
        back.reverse();
        assert_eq!(flat, back);
        let mut it = epoch.examples();
        assert_eq!(it.nth(5), Some(flat[5]));
        assert_eq!(it.next(), Some(flat[6]));
        assert_eq!(it.nth(usize::MAX), None);
        assert_eq!(it.next(), None);
        let tests: Vec<_> = task.test_examples().collect();
        let mut rev: Vec<_> = task.test_examples().rev().collect();
        rev.reverse();
        assert_eq!(tests, rev);
        assert_eq!(task.test_examples().nth(3), task.test_example(3));
    }

    #[test]
    fn epochs_differ_and_repeat() {
        let task = SparseParity::new(30, 3, 500, 100, 4).unwrap();
        let order = |e| -> Vec<usize> {
            let epoch = task.epoch(e, 50, Remainder::Drop).unwrap();
            (0..500).map(|j| epoch.train_index(j).unwrap()).collect()
        };
        assert_eq!(order(0), order(0));
        assert_ne!(order(0), order(1));
    }

    #[test]
    fn bad_batch_sizes() {
        let task = ModularTask::new(5, Op::Add, 0.5, 0).unwrap();
        let e = task.epoch(0, 13, Remainder::Drop).unwrap_err();
        assert_eq!(
            e,
            TaskError::OutOfRange {
                name: "batch_size",
                value: 13,
                min: 1,
                max: 12
            }
        );
        assert!(task.epoch(0, usize::MAX, Remainder::Keep).is_err());
        let epoch = task.epoch(0, 12, Remainder::Drop).unwrap();
        assert!(epoch.batch(usize::MAX).is_none());
        assert!(epoch.train_index(usize::MAX).is_none());
    }

    #[test]
    fn documented_sizes() {
        type E<'a> = Epoch<'a, ModularTask>;
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(size_of::<Examples<'_, ModularTask>>(), 24);
            assert_eq!(size_of::<E<'_>>(), 32);
            assert_eq!(size_of::<Batches<'_, ModularTask>>(), 40);
            assert_eq!(size_of::<Batch<'_, ModularTask>>(), 40);
            assert_eq!(size_of::<EpochExamples<'_, ModularTask>>(), 40);
        }
        #[cfg(target_pointer_width = "32")]
        {
            assert_eq!(size_of::<Examples<'_, ModularTask>>(), 16);
            assert_eq!(size_of::<E<'_>>(), 28);
            assert_eq!(size_of::<Batches<'_, ModularTask>>(), 32);
            assert_eq!(size_of::<Batch<'_, ModularTask>>(), 36);
            assert_eq!(size_of::<EpochExamples<'_, ModularTask>>(), 36);
        }
    }
}
