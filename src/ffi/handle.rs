//! Reference-counted 64-bit handles that stay safe after they are released.
//!
//! A handle is `version << 32 | (slot + 1)`. Releasing the last reference retires the slot and
//! bumps its version, so a stale handle (released, or a copy kept after the slot was reused)
//! never matches again and is reported as unknown instead of touching another object.

use std::sync::{Arc, Mutex, MutexGuard};

/// A table of reference-counted handles to shared values.
pub(crate) struct HandleTable<T> {
    slots: Mutex<Slots<T>>,
}

struct Slots<T> {
    entries: Vec<Slot<T>>,
    free: Vec<u32>,
}

struct Slot<T> {
    version: u32,
    references: u64,
    value: Option<Arc<T>>,
}

impl<T> HandleTable<T> {
    pub(crate) const fn new() -> Self {
        HandleTable {
            slots: Mutex::new(Slots {
                entries: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    fn slots(&self) -> MutexGuard<'_, Slots<T>> {
        // A panic never happens while the lock is held, but a poisoned table would still be
        // consistent: every mutation below is a single assignment.
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores `value` under a new handle with one reference.
    pub(crate) fn insert(&self, value: Arc<T>) -> u64 {
        let mut slots = self.slots();
        let index = match slots.free.pop() {
            Some(index) => index,
            None => {
                slots.entries.push(Slot {
                    version: 1,
                    references: 0,
                    value: None,
                });
                (slots.entries.len() - 1) as u32
            }
        };
        let slot = &mut slots.entries[index as usize];
        slot.references = 1;
        slot.value = Some(value);
        (u64::from(slot.version) << 32) | (u64::from(index) + 1)
    }

    fn slot_mut(slots: &mut Slots<T>, handle: u64) -> Option<&mut Slot<T>> {
        let index = (handle & 0xffff_ffff).checked_sub(1)? as usize;
        let version = (handle >> 32) as u32;
        slots
            .entries
            .get_mut(index)
            .filter(|slot| slot.version == version && slot.value.is_some())
    }

    /// The value behind a live handle.
    pub(crate) fn get(&self, handle: u64) -> Option<Arc<T>> {
        let mut slots = self.slots();
        Self::slot_mut(&mut slots, handle).and_then(|slot| slot.value.clone())
    }

    /// Adds a reference to a live handle; false for a stale or unknown one.
    pub(crate) fn acquire(&self, handle: u64) -> bool {
        let mut slots = self.slots();
        match Self::slot_mut(&mut slots, handle) {
            Some(slot) => {
                slot.references += 1;
                true
            }
            None => false,
        }
    }

    /// Drops a reference; the last one retires the handle. `None` for a stale or unknown handle,
    /// otherwise whether the handle was retired.
    pub(crate) fn release(&self, handle: u64) -> Option<bool> {
        let retired = {
            let mut slots = self.slots();
            let slot = Self::slot_mut(&mut slots, handle)?;
            slot.references -= 1;
            if slot.references > 0 {
                return Some(false);
            }
            // Version 0 is skipped so that no handle is ever 0 in its upper half after wrapping.
            slot.version = slot.version.checked_add(1).unwrap_or(1);
            let value = slot.value.take();
            let index = (handle & 0xffff_ffff) as u32 - 1;
            slots.free.push(index);
            value
        };
        // The value is dropped outside the lock: freeing a reloading context joins its thread.
        drop(retired);
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_zero_is_never_issued_and_never_valid() {
        let table = HandleTable::new();
        let handle = table.insert(Arc::new(7));
        assert_ne!(handle, 0);
        assert!(table.get(0).is_none());
        assert!(!table.acquire(0));
        assert_eq!(table.release(0), None);
    }

    #[test]
    fn references_count_up_and_down() {
        let table = HandleTable::new();
        let value = Arc::new("context");
        let handle = table.insert(value.clone());
        assert!(table.acquire(handle));
        assert_eq!(Arc::strong_count(&value), 2);
        assert_eq!(table.release(handle), Some(false));
        assert_eq!(*table.get(handle).unwrap(), "context");
        assert_eq!(table.release(handle), Some(true));
        assert_eq!(Arc::strong_count(&value), 1);
        assert_eq!(table.release(handle), None);
        assert!(!table.acquire(handle));
    }

    #[test]
    fn stale_handle_is_refused_after_its_slot_is_reused() {
        let table = HandleTable::new();
        let first = table.insert(Arc::new(1));
        assert_eq!(table.release(first), Some(true));
        let second = table.insert(Arc::new(2));
        assert_eq!(
            first & 0xffff_ffff,
            second & 0xffff_ffff,
            "the slot is reused"
        );
        assert_ne!(first, second);
        assert!(table.get(first).is_none());
        assert_eq!(table.release(first), None);
        assert_eq!(*table.get(second).unwrap(), 2);
    }
}
