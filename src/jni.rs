//! The JNI functions behind `org.tlsctx.Native`.
//!
//! Each function runs behind a panic boundary; a failure is thrown as `org.tlsctx.TlsException`
//! carrying the [`tls_result`] code and the message, and the function then returns a neutral
//! value the Java side never looks at. Connection pointers are `Box<Connection>` addresses; the
//! Java owner guarantees one thread at a time and exactly one free.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jni::objects::{
    JByteBuffer, JClass, JFieldID, JObject, JObjectArray, JPrimitiveArray, JString, JValue,
};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jboolean, jint, jlong, jobjectArray, jstring, JNI_TRUE};
use jni::JNIEnv;

use crate::config::{Role, Source, TlsConfig};
use crate::connection::{Connection, RecordSource, Step};
use crate::context::{self, Context};
use crate::ffi::{self, tls_result, Failure};
use crate::jni_log;
use crate::reload::{ReloadAttempt, ReloadOutcome, ReloadReport, ReloadingContext};
use crate::watch::WatchOptions;

const EXCEPTION_CLASS: &str = "org/tlsctx/TlsException";

/// Runs a JNI body; a failure or panic becomes a pending `TlsException` and `fallback` is
/// returned.
fn boundary<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T, Failure>,
) -> T {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| body(env)));
    let failure = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(tls_result::Panic, ffi::panic_message(payload.as_ref())),
    };
    // A Java exception raised by a JNI call inside the body is already pending; keep it.
    if !env.exception_check().unwrap_or(true) {
        throw(env, &failure);
    }
    fallback
}

fn throw(env: &mut JNIEnv<'_>, failure: &Failure) {
    let Ok(message) = env.new_string(&failure.message) else {
        return;
    };
    let args = [JValue::Int(failure.code as jint), JValue::Object(&message)];
    // TlsException.fromNative picks the typed subclass for the code.
    let created = env
        .call_static_method(EXCEPTION_CLASS, "fromNative", FROM_NATIVE_SIGNATURE, &args)
        .and_then(|value| value.l());
    if let Ok(exception) = created {
        // If throwing fails, a JVM error (such as OutOfMemoryError) is already pending.
        let _ = env.throw(jni::objects::JThrowable::from(exception));
    }
}

const FROM_NATIVE_SIGNATURE: &str = "(ILjava/lang/String;)Lorg/tlsctx/TlsException;";

impl From<jni::errors::Error> for Failure {
    fn from(err: jni::errors::Error) -> Self {
        Failure::new(
            tls_result::InvalidArgument,
            format!("JNI call failed: {err}"),
        )
    }
}

fn optional_string(env: &mut JNIEnv<'_>, value: &JString<'_>) -> Result<Option<String>, Failure> {
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(env.get_string(value)?.into()))
}

fn string_list(
    env: &mut JNIEnv<'_>,
    array: &JObjectArray<'_>,
) -> Result<Option<Vec<Vec<u8>>>, Failure> {
    if array.is_null() {
        return Ok(None);
    }
    let count = env.get_array_length(array)?;
    let mut list = Vec::with_capacity(count as usize);
    for index in 0..count {
        let element = JString::from(env.get_object_array_element(array, index)?);
        let Some(text) = optional_string(env, &element)? else {
            return Err(Failure::new(
                tls_result::NullArgument,
                "a protocol name is null",
            ));
        };
        list.push(text.into_bytes());
    }
    Ok(Some(list))
}

fn new_string_or_null(env: &mut JNIEnv<'_>, value: Option<&str>) -> Result<jstring, Failure> {
    match value {
        Some(text) => Ok(env.new_string(text)?.into_raw()),
        None => Ok(std::ptr::null_mut()),
    }
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextRelease<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    boundary(&mut env, (), |_| {
        match ffi::CONTEXTS.release(handle as u64) {
            Some(_) => Ok(()),
            None => Err(Failure::invalid_handle("context", handle as u64)),
        }
    })
}

fn with_context<'local, T>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>, &Context) -> Result<T, Failure>,
) -> T {
    boundary(env, fallback, |env| {
        let context = ffi::context(handle as u64)?;
        body(env, &context)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextGeneration<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    with_context(&mut env, handle, 0, |_, context| {
        Ok(context.generation() as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextFingerprint<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    with_context(&mut env, handle, std::ptr::null_mut(), |env, context| {
        new_string_or_null(env, context.leaf().map(|leaf| leaf.fingerprint.as_str()))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextSubject<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    with_context(&mut env, handle, std::ptr::null_mut(), |env, context| {
        new_string_or_null(env, context.leaf().map(|leaf| leaf.subject.as_str()))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextSerial<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    with_context(&mut env, handle, std::ptr::null_mut(), |env, context| {
        new_string_or_null(env, context.leaf().map(|leaf| leaf.serial.as_str()))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextNotBefore<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    with_context(&mut env, handle, 0, |_, context| {
        Ok(context.leaf().map_or(jlong::MIN, |leaf| leaf.not_before))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_contextNotAfter<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    with_context(&mut env, handle, 0, |_, context| {
        Ok(context.leaf().map_or(jlong::MIN, |leaf| leaf.not_after))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_liveGenerations<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jlong {
    boundary(&mut env, 0, |_| Ok(context::live_generations() as jlong))
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderCurrent<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) -> jlong {
    boundary(&mut env, 0, |_| {
        let current = ffi::reloader(reloader as u64)?.current();
        Ok(ffi::CONTEXTS.insert(current) as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderReload<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) -> jint {
    boundary(&mut env, -1, |_| {
        match ffi::reloader(reloader as u64)?.reload()? {
            ReloadOutcome::Swapped { .. } => Ok(0),
            ReloadOutcome::Unchanged => Ok(1),
        }
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderLastError<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) -> jstring {
    boundary(&mut env, std::ptr::null_mut(), |env| {
        let last_error = ffi::reloader(reloader as u64)?.stats().last_error;
        new_string_or_null(env, last_error.as_deref())
    })
}

/// Reload outcomes as `ReloadEvent.Attempt` ordinals: 0 swapped, 1 unchanged, 2 failed.
fn attempt_ordinal(attempt: ReloadAttempt) -> jint {
    match attempt {
        ReloadAttempt::Swapped => 0,
        ReloadAttempt::Unchanged => 1,
        ReloadAttempt::Failed => 2,
    }
}

/// The Java side's listener dispatcher, held weakly by a reloading context's listener.
///
/// The last reference to the listener may go on the watcher thread, which is attached to the
/// JVM (as a daemon) only once it has reported or logged; the weak reference is deleted with
/// the thread attached.
struct Dispatcher {
    vm: jni::JavaVM,
    /// Always `Some` until dropped.
    weak: Option<jni::objects::WeakRef>,
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        // Attached for the drop only when the thread was not already; a failed attach leaves
        // the reference to jni's own drop, which then logs that it cannot delete it.
        let attached = self.vm.attach_current_thread();
        drop(self.weak.take());
        drop(attached);
    }
}

/// Calls `dispatcher.onNativeReload(...)` for a report, from whichever thread reloaded.
fn dispatch(vm: &jni::JavaVM, dispatcher: &jni::objects::WeakRef, report: &ReloadReport) {
    let Ok(mut env) = vm.attach_current_thread_as_daemon() else {
        return;
    };
    // The Java side holds the dispatcher strongly; once it is collected nobody listens.
    let Ok(Some(dispatcher)) = dispatcher.upgrade_local(&env) else {
        return;
    };
    let leaf = report.leaf.as_ref();
    let strings = (
        leaf.map(|leaf| env.new_string(&leaf.serial)).transpose(),
        leaf.map(|leaf| env.new_string(&leaf.fingerprint))
            .transpose(),
        report
            .error
            .as_ref()
            .map(|error| env.new_string(error))
            .transpose(),
    );
    let (Ok(serial), Ok(fingerprint), Ok(error)) = strings else {
        let _ = env.exception_clear();
        return;
    };
    let null = JObject::null();
    let (serial_object, fingerprint_object, error_object): (&JObject, &JObject, &JObject) = (
        serial.as_deref().unwrap_or(&null),
        fingerprint.as_deref().unwrap_or(&null),
        error.as_deref().unwrap_or(&null),
    );
    let args = [
        JValue::Int(attempt_ordinal(report.attempt)),
        JValue::Long(report.generation as jlong),
        JValue::Object(serial_object),
        JValue::Object(fingerprint_object),
        JValue::Long(leaf.map_or(jlong::MIN, |leaf| leaf.not_after)),
        JValue::Object(error_object),
    ];
    let signature = "(IJLjava/lang/String;Ljava/lang/String;JLjava/lang/String;)V";
    let called = env.call_method(&dispatcher, "onNativeReload", signature, &args);
    if called.is_err() || env.exception_check().unwrap_or(false) {
        // A listener's exception is the dispatcher's to report; never let it reach the reload.
        let _ = env.exception_clear();
    }
    // The references are locals of a possibly permanent attachment: free them now.
    for text in [serial, fingerprint, error].into_iter().flatten() {
        let _ = env.delete_local_ref(text);
    }
    let _ = env.delete_local_ref(dispatcher);
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderSetListener<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
    dispatcher: JObject<'local>,
) {
    boundary(&mut env, (), |env| {
        let reloading = ffi::reloader(reloader as u64)?;
        if dispatcher.is_null() {
            reloading.set_listener(None);
            return Ok(());
        }
        // Weak: a listener that captures the Java context must not keep it from being collected.
        let Some(weak) = env.new_weak_ref(dispatcher)? else {
            return Err(Failure::null("dispatcher"));
        };
        let dispatcher = Dispatcher {
            vm: env.get_java_vm()?,
            weak: Some(weak),
        };
        reloading.set_listener(Some(Arc::new(move |report: &ReloadReport| {
            if let Some(weak) = &dispatcher.weak {
                dispatch(&dispatcher.vm, weak, report);
            }
        })));
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderStats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) -> jni::sys::jlongArray {
    boundary(&mut env, std::ptr::null_mut(), |env| {
        let reloading = ffi::reloader(reloader as u64)?;
        let history = reloading.stats();
        let current = reloading.current();
        let figures = [
            history.swapped as jlong,
            history.unchanged as jlong,
            history.failed as jlong,
            current.generation() as jlong,
            reloading.live_generations() as jlong,
            history.last_swap_unix().unwrap_or(jlong::MIN),
            current.leaf().map_or(jlong::MIN, |leaf| leaf.not_after),
        ];
        let array = env.new_long_array(figures.len() as jint)?;
        env.set_long_array_region(&array, 0, &figures)?;
        Ok(array.into_raw())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderLiveGenerations<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) -> jlong {
    boundary(&mut env, 0, |_| {
        Ok(ffi::reloader(reloader as u64)?.live_generations() as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_reloaderFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
) {
    boundary(&mut env, (), |_| {
        match ffi::RELOADERS.release(reloader as u64) {
            Some(_) => Ok(()),
            None => Err(Failure::invalid_handle(
                "reloading context",
                reloader as u64,
            )),
        }
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reloader: jlong,
    client: jboolean,
    server_name: JString<'local>,
    alpn: JObjectArray<'local>,
    select_alpn: jboolean,
) -> jlong {
    boundary(&mut env, 0, |env| {
        // Taken atomically with respect to reloads: the generation current right now.
        let context = ffi::reloader(reloader as u64)?.current();
        let alpn = string_list(env, &alpn)?;
        let expected = if client == JNI_TRUE {
            Role::Client
        } else {
            Role::Server
        };
        if context.role() != expected {
            return Err(Failure::new(
                tls_result::WrongRole,
                format!(
                    "a {expected:?} engine cannot be made from a {:?} context",
                    context.role()
                ),
            ));
        }
        let connection = match expected {
            Role::Client => {
                let Some(name) = optional_string(env, &server_name)? else {
                    return Err(Failure::new(
                        tls_result::NullArgument,
                        "a client connection needs the server's name",
                    ));
                };
                Connection::client(context, &name, alpn.as_deref())?
            }
            Role::Server if select_alpn == JNI_TRUE => Connection::server_selecting_alpn(context)?,
            Role::Server => Connection::server_with(context, alpn.as_deref())?,
        };
        Ok(Box::into_raw(Box::new(connection)) as jlong)
    })
}

/// Borrows the connection behind a pointer from `connNew`.
///
/// # Safety
///
/// `conn` is 0 or a live pointer from `connNew`, used by one thread at a time (the Java owner
/// synchronises its calls and frees it once).
unsafe fn connection<'a>(conn: jlong) -> Result<&'a mut Connection, Failure> {
    // SAFETY: the caller's promise; as_mut turns 0 into None.
    unsafe { (conn as *mut Connection).as_mut() }
        .ok_or_else(|| Failure::new(tls_result::NullArgument, "the connection was freed"))
}

/// The JVM's own reading of a direct buffer's address, against which `BufferAddress` checks
/// its faster one once.
#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_directBufferAddress<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    buffer: JByteBuffer<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        Ok(env.get_direct_buffer_address(&buffer)? as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
) {
    boundary(&mut env, (), |_| {
        if conn != 0 {
            // SAFETY: a pointer from connNew; the Java owner frees it exactly once.
            drop(unsafe { Box::from_raw(conn as *mut Connection) });
        }
        Ok(())
    })
}

/// How the Java engine passes one side of a wrap or unwrap: two bits per side in `kinds`, the
/// source's in bits 0-1 and the destination's in bits 2-3.
mod side_kind {
    use jni::sys::jint;

    /// A direct `ByteBuffer`; the position is an offset from its address.
    pub(super) const DIRECT_BUFFER: jint = 0;
    /// A `byte[]`; the position is an offset into it, which is pinned for the call.
    pub(super) const ARRAY: jint = 1;
    /// A direct `ByteBuffer` whose address the Java side read itself: the position is the
    /// absolute address of the first byte, and the buffer object is passed only to keep it
    /// reachable for the call.
    pub(super) const ADDRESS: jint = 2;
    /// In `kinds`: the source is writable, so an unwrap may decrypt the record where it lies.
    pub(super) const SRC_WRITABLE: jint = 1 << 4;
}

/// The field IDs of `java.nio.Buffer.address` and `java.nio.Buffer.capacity`.
///
/// Used where the Java side cannot read a buffer's address itself (from JDK 24, see
/// `BufferAddress`). Reading the fields directly spares the `IsInstanceOf` check that
/// `GetDirectBufferAddress` and `GetDirectBufferCapacity` each make, which cost about 8% of a
/// 1 KiB record. The Java engine passes only buffers whose `isDirect()` is true, so the fields
/// hold the native address.
struct BufferFields {
    address: JFieldID,
    capacity: JFieldID,
}

static BUFFER_FIELDS: OnceLock<BufferFields> = OnceLock::new();

fn buffer_fields(env: &mut JNIEnv<'_>) -> Result<&'static BufferFields, Failure> {
    if let Some(fields) = BUFFER_FIELDS.get() {
        return Ok(fields);
    }
    let class = env.find_class("java/nio/Buffer")?;
    let fields = BufferFields {
        address: env.get_field_id(&class, "address", "J")?,
        capacity: env.get_field_id(&class, "capacity", "I")?,
    };
    let _ = env.delete_local_ref(class);
    Ok(BUFFER_FIELDS.get_or_init(|| fields))
}

/// One side of a wrap or unwrap, checked against the bounds of its buffer or array.
enum Region {
    /// `length` bytes at `start`, inside a direct buffer.
    Direct { start: *mut u8, length: usize },
    /// `length` bytes at `offset` of a `byte[]`, reached by pinning it.
    Array {
        array: jni::sys::jarray,
        offset: usize,
        length: usize,
    },
}

/// A `byte[]` whose elements are pinned with `GetPrimitiveArrayCritical`; released on drop.
///
/// While one is held no other JNI function may be called (the JNI rule for critical regions),
/// so the log bridge holds back its events meanwhile ([`jni_log::hold`]).
struct PinnedArray {
    env: *mut jni::sys::JNIEnv,
    array: jni::sys::jarray,
    elements: *mut std::ffi::c_void,
    /// 0 to copy back (a destination), `JNI_ABORT` not to (a source), for a JVM that pins by
    /// copying: writing back a source's stale copy would undo what the call wrote to the array.
    /// A source decrypted in place then keeps its ciphertext, which is as good: the connection
    /// has copied whatever of it rustls still needs.
    release_mode: jint,
}

impl Drop for PinnedArray {
    fn drop(&mut self) {
        // SAFETY: `elements` came from GetPrimitiveArrayCritical on `array` with this `env` on
        // this thread, and is released exactly once.
        unsafe {
            if let Some(release) = (**self.env).ReleasePrimitiveArrayCritical {
                release(self.env, self.array, self.elements, self.release_mode);
            }
        }
    }
}

impl Region {
    /// Locates `length` bytes at `position` of `object`, passed as `kind` says (see
    /// [`side_kind`]), after checking they lie inside it where the JVM can tell.
    fn locate(
        env: &mut JNIEnv<'_>,
        object: &JObject<'_>,
        kind: jint,
        position: jlong,
        length: jint,
        name: &str,
    ) -> Result<Region, Failure> {
        let (Ok(position), Ok(length)) = (usize::try_from(position), usize::try_from(length))
        else {
            return Err(Failure::new(
                tls_result::InvalidArgument,
                format!("{name}: negative range"),
            ));
        };
        if length == 0 {
            let start = std::ptr::NonNull::dangling().as_ptr();
            return Ok(Region::Direct { start, length });
        }
        if object.is_null() {
            return Err(Failure::null(name));
        }
        match kind {
            side_kind::ADDRESS if position == 0 => Err(Failure::null(name)),
            side_kind::ADDRESS => Ok(Region::Direct {
                start: position as *mut u8,
                length,
            }),
            side_kind::ARRAY => {
                // SAFETY: the Java engine passes this kind only for a byte[]; `ManuallyDrop`
                // keeps the wrapper from deleting a local reference it does not own.
                let array = std::mem::ManuallyDrop::new(unsafe {
                    JPrimitiveArray::<jni::sys::jbyte>::from_raw(object.as_raw())
                });
                let capacity = env.get_array_length(&*array)? as usize;
                check_range(position, length, capacity, name)?;
                Ok(Region::Array {
                    array: object.as_raw(),
                    offset: position,
                    length,
                })
            }
            side_kind::DIRECT_BUFFER => {
                let (start, capacity) = direct_buffer(env, object, name)?;
                check_range(position, length, capacity, name)?;
                // SAFETY: position + length <= capacity, so the range stays inside the buffer.
                let start = unsafe { start.add(position) };
                Ok(Region::Direct { start, length })
            }
            _ => Err(Failure::new(
                tls_result::InvalidArgument,
                format!("{name}: unknown buffer kind {kind}"),
            )),
        }
    }

    /// The region's first byte and length, pinning an array; `written` for a destination.
    ///
    /// # Safety
    ///
    /// `env` is the current thread's JNI environment, and the array's local reference stays
    /// valid until the returned pin is dropped.
    unsafe fn pin(
        &self,
        env: *mut jni::sys::JNIEnv,
        written: bool,
    ) -> Result<(*mut u8, usize, Option<PinnedArray>), Failure> {
        match *self {
            Region::Direct { start, length } => Ok((start, length, None)),
            Region::Array {
                array,
                offset,
                length,
            } => {
                // SAFETY: the caller's promise; `array` is a live local reference to a byte[].
                let elements = unsafe {
                    match (**env).GetPrimitiveArrayCritical {
                        Some(get) => get(env, array, std::ptr::null_mut()),
                        None => std::ptr::null_mut(),
                    }
                };
                if elements.is_null() {
                    return Err(Failure::new(
                        tls_result::InvalidState,
                        "the JVM could not pin a byte array",
                    ));
                }
                let pin = PinnedArray {
                    env,
                    array,
                    elements,
                    release_mode: if written { 0 } else { jni::sys::JNI_ABORT },
                };
                // SAFETY: offset + length <= the array's length was checked by `locate`.
                let start = unsafe { elements.cast::<u8>().add(offset) };
                Ok((start, length, Some(pin)))
            }
        }
    }
}

/// A direct buffer's address and capacity.
fn direct_buffer(
    env: &mut JNIEnv<'_>,
    buffer: &JObject<'_>,
    name: &str,
) -> Result<(*mut u8, usize), Failure> {
    let fields = buffer_fields(env)?;
    // The field IDs belong to java.nio.Buffer, of which `buffer` (a ByteBuffer) is an instance,
    // and the requested types are the fields' types.
    let address = env
        .get_field_unchecked(buffer, fields.address, long_type())?
        .j()?;
    let capacity = env
        .get_field_unchecked(buffer, fields.capacity, int_type())?
        .i()?;
    if address == 0 {
        return Err(Failure::new(
            tls_result::InvalidArgument,
            format!("{name}: not a direct buffer"),
        ));
    }
    Ok((address as *mut u8, capacity.max(0) as usize))
}

fn check_range(offset: usize, length: usize, capacity: usize, name: &str) -> Result<(), Failure> {
    if offset.checked_add(length).is_none_or(|end| end > capacity) {
        return Err(Failure::new(
            tls_result::InvalidArgument,
            format!("{name}: range {offset}+{length} exceeds the capacity {capacity}"),
        ));
    }
    Ok(())
}

fn long_type() -> ReturnType {
    ReturnType::Primitive(Primitive::Long)
}

fn int_type() -> ReturnType {
    ReturnType::Primitive(Primitive::Int)
}

/// Runs one wrap or unwrap over the source and destination the Java engine passed (direct
/// buffers or byte arrays, as `kinds` says), refusing ranges that overlap (one buffer passed
/// twice), which would alias the destination.
#[allow(clippy::too_many_arguments)]
fn engine_step(
    env: &mut JNIEnv<'_>,
    conn: jlong,
    src: &JObject<'_>,
    src_position: jlong,
    src_length: jint,
    dst: &JObject<'_>,
    dst_position: jlong,
    dst_length: jint,
    kinds: jint,
    step: impl FnOnce(&mut Connection, RecordSource<'_>, &mut [u8]) -> Result<Step, crate::Error>,
) -> Result<jlong, Failure> {
    // SAFETY: see `connection`; the owner argument keeps the Java object alive.
    let conn = unsafe { connection(conn)? };
    let src = Region::locate(env, src, kinds & 3, src_position, src_length, "src")?;
    let dst = Region::locate(env, dst, (kinds >> 2) & 3, dst_position, dst_length, "dst")?;
    let pins_arrays = matches!(src, Region::Array { .. }) || matches!(dst, Region::Array { .. });

    // Declared before the pins, so the held log events are sent after they are released.
    let _logs = pins_arrays.then(jni_log::hold);
    let raw = env.get_raw();
    // SAFETY: `raw` is this thread's environment; the arrays are this call's arguments, whose
    // local references outlive the pins, which drop at the end of this function.
    let (src_start, src_len, _src_pin) = unsafe { src.pin(raw, false)? };
    // SAFETY: as above.
    let (dst_start, dst_len, _dst_pin) = unsafe { dst.pin(raw, true)? };
    let (src_at, dst_at) = (src_start as usize, dst_start as usize);
    if src_len > 0 && dst_len > 0 && src_at < dst_at + dst_len && dst_at < src_at + src_len {
        return Err(Failure::new(
            tls_result::InvalidArgument,
            "the source and destination ranges overlap",
        ));
    }
    // SAFETY: both ranges lie inside their buffers or pinned arrays: checked by `locate`, except
    // for an address the Java engine computed from a direct buffer's address, position and
    // limit, which this package-private entry point trusts, as it trusts the kinds it is told.
    // The memory stays in place while the buffers are reachable (they are this call's arguments)
    // and the pins are held; the ranges do not overlap (checked above), so neither mutable
    // slice aliases the other. A source is written only when the Java engine says it may be.
    let (src, dst) = unsafe {
        let src = if kinds & side_kind::SRC_WRITABLE != 0 {
            RecordSource::Writable(std::slice::from_raw_parts_mut(src_start, src_len))
        } else {
            RecordSource::Shared(std::slice::from_raw_parts(src_start, src_len))
        };
        (src, std::slice::from_raw_parts_mut(dst_start, dst_len))
    };
    Ok(pack(step(conn, src, dst)?))
}

fn pack(step: Step) -> jlong {
    const MASK: u64 = 0xff_ffff;
    let consumed = step.consumed as u64 & MASK;
    let produced = step.produced as u64 & MASK;
    (consumed | produced << 24 | u64::from(step.flags) << 48) as jlong
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
extern "system" fn Java_org_tlsctx_Native_connUnwrap<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
    src: JObject<'local>,
    src_position: jlong,
    src_length: jint,
    dst: JObject<'local>,
    dst_position: jlong,
    dst_length: jint,
    kinds: jint,
) -> jlong {
    boundary(&mut env, 0, |env| {
        engine_step(
            env,
            conn,
            &src,
            src_position,
            src_length,
            &dst,
            dst_position,
            dst_length,
            kinds,
            |conn, src, dst| conn.unwrap_from(src, dst),
        )
    })
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
extern "system" fn Java_org_tlsctx_Native_connWrap<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
    src: JObject<'local>,
    src_position: jlong,
    src_length: jint,
    dst: JObject<'local>,
    dst_position: jlong,
    dst_length: jint,
    kinds: jint,
) -> jlong {
    boundary(&mut env, 0, |env| {
        engine_step(
            env,
            conn,
            &src,
            src_position,
            src_length,
            &dst,
            dst_position,
            dst_length,
            kinds,
            |conn, src, dst| conn.wrap_record(src.bytes(), dst),
        )
    })
}

fn with_connection<'local, T>(
    env: &mut JNIEnv<'local>,
    conn: jlong,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>, &mut Connection) -> Result<T, Failure>,
) -> T {
    boundary(env, fallback, |env| {
        // SAFETY: see `connection`; the callers' owner argument keeps the Java object alive.
        let conn = unsafe { connection(conn)? };
        body(env, conn)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connFlags<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jint {
    with_connection(&mut env, conn, 0, |_, conn| Ok(conn.flags() as jint))
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connCloseOutbound<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) {
    with_connection(&mut env, conn, (), |_, conn| {
        conn.send_close_notify();
        Ok(())
    })
}

fn string_array(env: &mut JNIEnv<'_>, items: &[Vec<u8>]) -> Result<jobjectArray, Failure> {
    let array = env.new_object_array(items.len() as jint, "java/lang/String", JObject::null())?;
    for (index, item) in items.iter().enumerate() {
        let text = env.new_string(String::from_utf8_lossy(item))?;
        env.set_object_array_element(&array, index as jint, text)?;
    }
    Ok(array.into_raw())
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connOfferedAlpn<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jobjectArray {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        let Some(offered) = conn.offered_alpn() else {
            return Err(Failure::new(
                tls_result::InvalidState,
                "no ClientHello is waiting",
            ));
        };
        string_array(env, &offered)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connAccept<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
    protocol: JString<'local>,
) {
    with_connection(&mut env, conn, (), |env, conn| {
        let protocol = optional_string(env, &protocol)?;
        conn.accept(protocol.as_deref().map(str::as_bytes))?;
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connAlpn<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jstring {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        let protocol = conn.alpn_protocol().map(String::from_utf8_lossy);
        new_string_or_null(env, protocol.as_deref())
    })
}

/// Bits of `connSession`'s result above the protocol version (bits 0-15) and the cipher suite
/// (bits 16-31), both as their IANA numbers (0 when not negotiated).
mod session_bits {
    /// The peer presented a certificate chain.
    pub(super) const PEER_CERTIFICATES: u64 = 1 << 32;
    /// Server: the client sent an SNI name.
    pub(super) const SERVER_NAME: u64 = 1 << 33;
    /// An ALPN protocol was negotiated.
    pub(super) const ALPN: u64 = 1 << 34;
}

/// What the Java session copies at the end of a handshake, packed in one number, so a handshake
/// costs one JNI call for it instead of one per value, and no Java string or array is made for
/// a value that is absent or that Java already knows by its number.
fn session_summary(conn: &Connection) -> u64 {
    let protocol = conn.protocol_version().map_or(0, u16::from);
    let suite = conn
        .cipher_suite()
        .map_or(0, |suite| u16::from(suite.suite()));
    let mut bits = u64::from(protocol) | u64::from(suite) << 16;
    if conn
        .peer_certificates()
        .is_some_and(|chain| !chain.is_empty())
    {
        bits |= session_bits::PEER_CERTIFICATES;
    }
    if conn.server_name().is_some() {
        bits |= session_bits::SERVER_NAME;
    }
    if conn.alpn_protocol().is_some() {
        bits |= session_bits::ALPN;
    }
    bits
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connSession<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jlong {
    with_connection(&mut env, conn, 0, |_, conn| {
        Ok(session_summary(conn) as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connProtocol<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jstring {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        let name = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => Some("TLSv1.3"),
            Some(rustls::ProtocolVersion::TLSv1_2) => Some("TLSv1.2"),
            _ => None,
        };
        new_string_or_null(env, name)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connCipherSuite<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jstring {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        let name = conn
            .cipher_suite()
            .map(|suite| crate::context::suite_name(suite.suite()));
        new_string_or_null(env, name.as_deref())
    })
}

fn der_array(
    env: &mut JNIEnv<'_>,
    chain: &[rustls::pki_types::CertificateDer<'_>],
) -> Result<jobjectArray, Failure> {
    let array = env.new_object_array(chain.len() as jint, "[B", JObject::null())?;
    for (index, certificate) in chain.iter().enumerate() {
        let bytes = env.byte_array_from_slice(certificate)?;
        env.set_object_array_element(&array, index as jint, bytes)?;
    }
    Ok(array.into_raw())
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connPeerCertificates<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jobjectArray {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        der_array(env, conn.peer_certificates().unwrap_or_default())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connLocalCertificates<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jobjectArray {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        der_array(env, conn.local_certificates())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connServerName<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jstring {
    with_connection(&mut env, conn, std::ptr::null_mut(), |env, conn| {
        let name = conn.server_name().map(str::to_string);
        new_string_or_null(env, name.as_deref())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_connGeneration<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    conn: jlong,
    _owner: JObject<'local>,
) -> jlong {
    with_connection(&mut env, conn, 0, |_, conn| {
        Ok(conn.context().generation() as jlong)
    })
}

// ---- the configuration builder behind org.tlsctx.TlsConfig ---------------------------------

/// Borrows the configuration behind a pointer from `configNew` or `configFromProperties`.
///
/// # Safety
///
/// `config` is 0 or a live pointer from those functions, used by one thread at a time (the
/// Java builder is confined to the thread that loads it).
unsafe fn config<'a>(config: jlong) -> Result<&'a mut TlsConfig, Failure> {
    // SAFETY: the caller's promise; as_mut turns 0 into None.
    unsafe { (config as *mut TlsConfig).as_mut() }
        .ok_or_else(|| Failure::new(tls_result::NullArgument, "the configuration was freed"))
}

fn with_config<'local>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    body: impl FnOnce(&mut JNIEnv<'local>, &mut TlsConfig) -> Result<(), Failure>,
) {
    boundary(env, (), |env| {
        // SAFETY: see `config`.
        let config = unsafe { config(handle)? };
        body(env, config)
    })
}

fn required_string(
    env: &mut JNIEnv<'_>,
    value: &JString<'_>,
    name: &str,
) -> Result<String, Failure> {
    optional_string(env, value)?.ok_or_else(|| Failure::null(name))
}

fn role_of(server: jboolean) -> Role {
    if server == JNI_TRUE {
        Role::Server
    } else {
        Role::Client
    }
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    server: jboolean,
) -> jlong {
    boundary(&mut env, 0, |_| {
        let config = match role_of(server) {
            Role::Server => TlsConfig::server(),
            Role::Client => TlsConfig::client(),
        };
        Ok(Box::into_raw(Box::new(config)) as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configFromProperties<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    server: jboolean,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let path = required_string(env, &path, "path")?;
        let config = TlsConfig::from_broker_properties(path, role_of(server))?;
        Ok(Box::into_raw(Box::new(config)) as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
) {
    boundary(&mut env, (), |_| {
        if config != 0 {
            // SAFETY: a pointer from configNew or configFromProperties, freed once by Java.
            drop(unsafe { Box::from_raw(config as *mut TlsConfig) });
        }
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetPath<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    which: jint,
    path: JString<'local>,
) {
    with_config(&mut env, config, |env, config| {
        let path = required_string(env, &path, "path")?;
        ffi::set_material(config, which as u32, Source::File(path.into()))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetMemory<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    which: jint,
    name: JString<'local>,
    bytes: jni::objects::JByteArray<'local>,
) {
    with_config(&mut env, config, |env, config| {
        let name = required_string(env, &name, "name")?;
        if bytes.is_null() {
            return Err(Failure::null("bytes"));
        }
        let bytes = zeroize::Zeroizing::new(env.convert_byte_array(&bytes)?);
        ffi::set_material(config, which as u32, Source::memory(name, bytes.as_slice()))
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetKeyPassword<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    password: JString<'local>,
) {
    with_config(&mut env, config, |env, config| {
        config.key_password = optional_string(env, &password)?.map(zeroize::Zeroizing::new);
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetClientAuth<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    mode: jint,
) {
    with_config(&mut env, config, |_, config| {
        config.client_auth = ffi::client_auth_from(mode as u32)?;
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetAlpn<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    protocols: JObjectArray<'local>,
) {
    with_config(&mut env, config, |env, config| {
        config.alpn = string_list(env, &protocols)?.unwrap_or_default();
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetVersions<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    mask: jint,
) {
    with_config(&mut env, config, |_, config| {
        config.versions = ffi::versions_from_mask(mask as u32)?;
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetVerifyServer<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    verify: jboolean,
) {
    with_config(&mut env, config, |_, config| {
        if config.role != Role::Client {
            return Err(Failure::new(
                tls_result::WrongRole,
                "verifyServer applies to client configurations only",
            ));
        }
        config.verify_server = verify == JNI_TRUE;
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetCipherSuites<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    names: JObjectArray<'local>,
) {
    with_config(&mut env, config, |env, config| {
        let names = string_list(env, &names)?;
        config.cipher_suites = names.map(|names| {
            names
                .into_iter()
                .map(|name| String::from_utf8_lossy(&name).into_owned())
                .collect()
        });
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetTestMode<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    enabled: jboolean,
) {
    with_config(&mut env, config, |_, config| {
        config.set_test_mode(enabled == JNI_TRUE);
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetAllowExpiredLeaf<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    allow: jboolean,
) {
    with_config(&mut env, config, |_, config| {
        config.allow_expired_leaf = allow == JNI_TRUE;
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configSetExpiryWarning<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    seconds: jlong,
) {
    with_config(&mut env, config, |_, config| {
        config.expiry_warning = Duration::from_secs(seconds.max(0) as u64);
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configAddIdentityForName<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    server_name: JString<'local>,
    cert_chain: JString<'local>,
    private_key: JString<'local>,
) {
    with_config(&mut env, config, |env, config| {
        let server_name = required_string(env, &server_name, "serverName")?;
        let cert_chain = required_string(env, &cert_chain, "certChain")?;
        let private_key = required_string(env, &private_key, "privateKey")?;
        config.add_identity_for_name(server_name, cert_chain.into(), private_key.into());
        Ok(())
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configLoad<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
) -> jlong {
    boundary(&mut env, 0, |_| {
        // SAFETY: see `config`.
        let config = unsafe { self::config(config)? };
        Ok(ffi::CONTEXTS.insert(Context::load(config)?) as jlong)
    })
}

#[no_mangle]
extern "system" fn Java_org_tlsctx_Native_configReloading<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    poll_millis: jlong,
    debounce_millis: jlong,
) -> jlong {
    boundary(&mut env, 0, |_| {
        // SAFETY: see `config`.
        let config = unsafe { self::config(config)? }.clone();
        let reloading = match poll_millis {
            millis if millis <= 0 => ReloadingContext::new(config)?,
            millis => {
                let options = WatchOptions::default()
                    .with_poll_interval(Duration::from_millis(millis as u64))
                    .with_debounce(Duration::from_millis(debounce_millis.max(0) as u64));
                ReloadingContext::watching(config, options)?
            }
        };
        Ok(ffi::RELOADERS.insert(Arc::new(reloading)) as jlong)
    })
}
