//! librados, loaded at run time with `libloading` so cairn builds and runs without it: the few C
//! functions direct mode needs, behind safe blocking wrappers. Everything `unsafe` in the Ceph
//! provider is here.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::OnceLock;

use super::error::{errno, CephError};

/// The shared object direct mode loads (Debian package `librados2`).
pub const LIBRADOS: &str = "librados.so.2";

/// `rados_t`: an opaque cluster handle.
type RadosT = *mut c_void;

type Create2 = unsafe extern "C" fn(*mut RadosT, *const c_char, *const c_char, u64) -> c_int;
type ConfReadFile = unsafe extern "C" fn(RadosT, *const c_char) -> c_int;
type ConfSet = unsafe extern "C" fn(RadosT, *const c_char, *const c_char) -> c_int;
type ConfGet = unsafe extern "C" fn(RadosT, *const c_char, *mut c_char, usize) -> c_int;
type Connect = unsafe extern "C" fn(RadosT) -> c_int;
type MonCommand = unsafe extern "C" fn(
    RadosT,
    *const *const c_char,
    usize,
    *const c_char,
    usize,
    *mut *mut c_char,
    *mut usize,
    *mut *mut c_char,
    *mut usize,
) -> c_int;
type BufferFree = unsafe extern "C" fn(*mut c_char);
type Shutdown = unsafe extern "C" fn(RadosT);

/// The loaded library and the functions cairn calls.
pub(crate) struct Librados {
    create2: Create2,
    conf_read_file: ConfReadFile,
    conf_set: ConfSet,
    conf_get: ConfGet,
    connect: Connect,
    mon_command: MonCommand,
    buffer_free: BufferFree,
    shutdown: Shutdown,
    /// Keeps the function pointers above valid; never unloaded while a handle lives.
    _lib: libloading::Library,
}

/// librados from the system's library path, loaded once per process.
pub(crate) fn librados() -> Result<&'static Librados, CephError> {
    static LOADED: OnceLock<Result<Librados, String>> = OnceLock::new();
    match LOADED.get_or_init(|| load(LIBRADOS).map_err(|e| e.to_string())) {
        Ok(lib) => Ok(lib),
        Err(message) => Err(CephError::Library { library: LIBRADOS.into(), message: message.clone() }),
    }
}

/// Loads librados from `name` (a file name searched on the library path, or a path).
pub(crate) fn load(name: &str) -> Result<Librados, CephError> {
    let fail = |e: libloading::Error| CephError::Library { library: name.into(), message: e.to_string() };
    // SAFETY: loading librados runs its static initializers, which have no preconditions; each
    // symbol is read with the signature declared in <rados/librados.h>.
    unsafe {
        let lib = libloading::Library::new(name).map_err(fail)?;
        Ok(Librados {
            create2: *lib.get::<Create2>(b"rados_create2\0").map_err(fail)?,
            conf_read_file: *lib.get::<ConfReadFile>(b"rados_conf_read_file\0").map_err(fail)?,
            conf_set: *lib.get::<ConfSet>(b"rados_conf_set\0").map_err(fail)?,
            conf_get: *lib.get::<ConfGet>(b"rados_conf_get\0").map_err(fail)?,
            connect: *lib.get::<Connect>(b"rados_connect\0").map_err(fail)?,
            mon_command: *lib.get::<MonCommand>(b"rados_mon_command\0").map_err(fail)?,
            buffer_free: *lib.get::<BufferFree>(b"rados_buffer_free\0").map_err(fail)?,
            shutdown: *lib.get::<Shutdown>(b"rados_shutdown\0").map_err(fail)?,
            _lib: lib,
        })
    }
}

/// A C string, or the errno librados would give for a string it cannot take.
fn c_string(s: &str) -> Result<CString, i32> {
    CString::new(s).map_err(|_| -errno::EINVAL)
}

/// One cluster handle (`rados_t`), shut down on drop. All calls block.
pub(crate) struct Handle {
    lib: &'static Librados,
    raw: RadosT,
}

// SAFETY: a `rados_t` may be used from any thread and by several threads at once (librados
// serializes internally); `Handle` never hands the pointer out.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `rados_create2` and is shut down exactly once; shutting down a
        // handle whose connect failed is allowed.
        unsafe { (self.lib.shutdown)(self.raw) }
    }
}

/// The raw reply of `rados_mon_command`: return code (0 or a negative errno), output buffer and
/// status string.
pub(crate) struct RawReply {
    pub code: i32,
    pub out: Vec<u8>,
    pub status: String,
}

impl Handle {
    /// `rados_create2` for cluster `ceph` and entity `name` (`client.admin`); errors are negative
    /// errnos.
    pub fn create(lib: &'static Librados, name: &str) -> Result<Handle, i32> {
        let cluster = c_string("ceph")?;
        let name = c_string(name)?;
        let mut raw: RadosT = std::ptr::null_mut();
        // SAFETY: out-pointer to a local; both strings outlive the call.
        let code = unsafe { (lib.create2)(&mut raw, cluster.as_ptr(), name.as_ptr(), 0) };
        if code < 0 || raw.is_null() {
            return Err(if code < 0 { code } else { -errno::EINVAL });
        }
        Ok(Handle { lib, raw })
    }

    /// `rados_conf_read_file`.
    pub fn conf_read_file(&self, path: &str) -> Result<(), i32> {
        let path = c_string(path)?;
        // SAFETY: valid handle and NUL-terminated path.
        check(unsafe { (self.lib.conf_read_file)(self.raw, path.as_ptr()) })
    }

    /// `rados_conf_set`.
    pub fn conf_set(&self, option: &str, value: &str) -> Result<(), i32> {
        let (option, value) = (c_string(option)?, c_string(value)?);
        // SAFETY: valid handle and NUL-terminated strings.
        check(unsafe { (self.lib.conf_set)(self.raw, option.as_ptr(), value.as_ptr()) })
    }

    /// `rados_conf_get`, or `None` when the option is unknown or its value too long.
    pub fn conf_get(&self, option: &str) -> Option<String> {
        let option = c_string(option).ok()?;
        let mut buf = vec![0u8; 4096];
        // SAFETY: valid handle; librados writes at most `buf.len()` bytes, NUL included.
        let code = unsafe { (self.lib.conf_get)(self.raw, option.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if code < 0 {
            return None;
        }
        let text = CStr::from_bytes_until_nul(&buf).ok()?;
        Some(text.to_string_lossy().into_owned())
    }

    /// `rados_connect`: blocks until connected, or fails after `client_mount_timeout`.
    pub fn connect(&self) -> Result<(), i32> {
        // SAFETY: valid handle, configured and not yet connected.
        check(unsafe { (self.lib.connect)(self.raw) })
    }

    /// `rados_mon_command` with one JSON command and no input buffer.
    pub fn mon_command(&self, cmd: &str) -> RawReply {
        let cmd = match c_string(cmd) {
            Ok(c) => c,
            Err(code) => return RawReply { code, out: Vec::new(), status: "the command holds a NUL byte".into() },
        };
        let cmds = [cmd.as_ptr()];
        let (mut out, mut out_len): (*mut c_char, usize) = (std::ptr::null_mut(), 0);
        let (mut status, mut status_len): (*mut c_char, usize) = (std::ptr::null_mut(), 0);
        // SAFETY: one valid command string; librados allocates the two out buffers, which are
        // copied and then freed with `rados_buffer_free` below.
        let code = unsafe {
            (self.lib.mon_command)(self.raw, cmds.as_ptr(), 1, std::ptr::null(), 0, &mut out, &mut out_len, &mut status, &mut status_len)
        };
        let out = self.take(out, out_len);
        let status = String::from_utf8_lossy(&self.take(status, status_len)).into_owned();
        RawReply { code, out, status }
    }

    /// Copies and frees a buffer librados allocated.
    fn take(&self, buf: *mut c_char, len: usize) -> Vec<u8> {
        if buf.is_null() {
            return Vec::new();
        }
        // SAFETY: librados returned `buf` holding `len` bytes; it is freed once, after the copy.
        unsafe {
            let bytes = std::slice::from_raw_parts(buf.cast::<u8>(), len).to_vec();
            (self.lib.buffer_free)(buf);
            bytes
        }
    }
}

fn check(code: c_int) -> Result<(), i32> {
    if code < 0 {
        Err(code)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_the_package_to_install() {
        let Err(e) = load("librados-does-not-exist.so.2") else { panic!("a nonexistent library loaded") };
        let text = e.to_string();
        assert!(text.contains("librados-does-not-exist.so.2"), "{text}");
        let help = miette::Diagnostic::help(&e).map(|h| h.to_string()).unwrap_or_default();
        assert!(help.contains("librados2"), "{help}");
        assert!(help.contains("apt-get install"), "{help}");
        assert!(help.contains("direct"), "{help}");
    }

    #[test]
    fn strings_with_nul_are_refused_not_truncated() {
        assert_eq!(c_string("a\0b").err(), Some(-errno::EINVAL));
    }
}
