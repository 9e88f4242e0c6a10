//! Forwards the library's `tracing` events (and rustls' `log` records) to Java's logging, so a
//! broker sees reloads, failures and warnings in its own logs.
//!
//! `JNI_OnLoad` keeps the `JavaVM` and a global reference to `org.tlsctx.NativeLog`, then
//! installs a subscriber that calls `NativeLog.log(level, target, message)` for each event at
//! INFO or above. Events come from Java threads and from the watcher thread alike; the latter
//! is attached to the JVM as a daemon. Nothing is forwarded when the library is used from C.

use std::cell::RefCell;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::sync::OnceLock;

use jni::objects::{GlobalRef, JClass, JStaticMethodID, JValue};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jint, jvalue, JNI_VERSION_1_8};
use jni::JavaVM;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const LOG_CLASS: &str = "org/tlsctx/NativeLog";

struct JavaLogger {
    vm: JavaVM,
    class: GlobalRef,
    method: JStaticMethodID,
}

static LOGGER: OnceLock<JavaLogger> = OnceLock::new();

/// Called by the JVM when `System.load` loads the library, on the loading Java thread, whose
/// class loader can see `org.tlsctx.NativeLog` (a thread attached later could not).
#[no_mangle]
extern "system" fn JNI_OnLoad(vm: JavaVM, _reserved: *mut c_void) -> jint {
    // Without the class the library still works; it just does not log to Java.
    let _ = std::panic::catch_unwind(|| install(vm));
    JNI_VERSION_1_8
}

fn install(vm: JavaVM) {
    let Ok(mut env) = vm.get_env() else { return };
    let Ok(class) = env.find_class(LOG_CLASS) else {
        let _ = env.exception_clear();
        return;
    };
    let method =
        env.get_static_method_id(&class, "log", "(ILjava/lang/String;Ljava/lang/String;)V");
    let (Ok(method), Ok(class)) = (method, env.new_global_ref(&class)) else {
        let _ = env.exception_clear();
        return;
    };
    if LOGGER.set(JavaLogger { vm, class, method }).is_err() {
        return;
    }
    // rustls logs through the `log` crate; bridge it into tracing. Either may already be set up
    // by the embedding process, in which case its choice stands.
    let _ = tracing_log::LogTracer::builder()
        .with_max_level(tracing_log::log::LevelFilter::Info)
        .init();
    let subscriber = tracing_subscriber::registry().with(ToJava);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The numbers `NativeLog.log` expects: 1 ERROR, 2 WARN, 3 INFO.
fn level_code(level: &Level) -> Option<jint> {
    match *level {
        Level::ERROR => Some(1),
        Level::WARN => Some(2),
        Level::INFO => Some(3),
        // DEBUG and TRACE come per handshake from rustls: too costly to cross into Java.
        _ => None,
    }
}

struct ToJava;

thread_local! {
    /// Events held back on this thread while it may not call into the JVM.
    static HELD: RefCell<Option<Vec<(jint, String, String)>>> = const { RefCell::new(None) };
}

/// Holds back this thread's events until the returned value is dropped, then sends them.
///
/// A JNI function that pins Java arrays (`GetPrimitiveArrayCritical`) may call no other JNI
/// function until it releases them, so it takes this first and drops it after the release.
pub(crate) fn hold() -> HeldLogs {
    let outermost = HELD.with_borrow_mut(|held| {
        if held.is_some() {
            return false;
        }
        *held = Some(Vec::new());
        true
    });
    HeldLogs {
        outermost,
        _this_thread: std::marker::PhantomData,
    }
}

/// See [`hold`]. Not `Send`: it must be dropped on the thread whose events it holds.
pub(crate) struct HeldLogs {
    outermost: bool,
    _this_thread: std::marker::PhantomData<*const ()>,
}

impl Drop for HeldLogs {
    fn drop(&mut self) {
        if !self.outermost {
            return;
        }
        let events = HELD.with_borrow_mut(Option::take).unwrap_or_default();
        let Some(logger) = LOGGER.get() else { return };
        for (level, target, text) in events {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                send(logger, level, &target, &text)
            }));
        }
    }
}

impl<S: Subscriber> Layer<S> for ToJava {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let Some(level) = level_code(event.metadata().level()) else {
            return;
        };
        let target = event.metadata().target();
        // rustls warns about misbehaving peers, once per bad connection: a remote party must
        // not be able to fill the broker's log. Its errors still pass.
        if target.starts_with("rustls") && level != 1 {
            return;
        }
        let Some(logger) = LOGGER.get() else { return };
        // A logging failure must never disturb the TLS work that logged.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut message = Message::default();
            event.record(&mut message);
            let held = HELD.with_borrow_mut(|held| match held {
                Some(events) => {
                    events.push((level, target.to_string(), std::mem::take(&mut message.text)));
                    true
                }
                None => false,
            });
            if !held {
                send(logger, level, target, &message.text);
            }
        }));
    }
}

fn send(logger: &JavaLogger, level: jint, target: &str, text: &str) {
    let Ok(mut env) = logger.vm.attach_current_thread_as_daemon() else {
        return;
    };
    // An exception already pending belongs to the Java code that called into the library.
    if env.exception_check().unwrap_or(true) {
        return;
    }
    let (target, text) = (env.new_string(target), env.new_string(text));
    let (Ok(target), Ok(text)) = (target, text) else {
        let _ = env.exception_clear();
        return;
    };
    let args: [jvalue; 3] = [
        JValue::Int(level).as_jni(),
        JValue::Object(&target).as_jni(),
        JValue::Object(&text).as_jni(),
    ];
    let class: &JClass<'_> = logger.class.as_obj().into();
    // SAFETY: the method ID was looked up on this class with the signature
    // (ILjava/lang/String;Ljava/lang/String;)V, and the arguments match it in number and type.
    let called = unsafe {
        env.call_static_method_unchecked(
            class,
            logger.method,
            ReturnType::Primitive(Primitive::Void),
            &args,
        )
    };
    if called.is_err() || env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    let _ = env.delete_local_ref(target);
    let _ = env.delete_local_ref(text);
}

/// The event's message followed by its fields as `name=value`.
#[derive(Default)]
struct Message {
    text: String,
}

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.text);
            let _ = write!(self.text, "{value:?}{fields}");
        } else {
            let _ = write!(self.text, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.text);
            let _ = write!(self.text, "{value}{fields}");
        } else {
            let _ = write!(self.text, " {}={value}", field.name());
        }
    }
}
