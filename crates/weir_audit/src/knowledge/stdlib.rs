//! The Python standard library: files, processes, sleeping, and the calls
//! that move work off the event loop.
//! <https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code>

use super::{
    Effect::{Blocking, Offload, Sleep},
    IoKind::{File, Input, Socket, Subprocess},
    Pack, func, method,
};

const FILE: super::Effect = Blocking(File);
const PROC: super::Effect = Blocking(Subprocess);

pub const PACK: Pack = Pack {
    name: "stdlib",
    roots: &[],
    funcs: &[
        func("builtins.open", FILE),
        func("io.open", FILE),
        func("codecs.open", FILE),
        func("builtins.input", Blocking(Input)),
        func("time.sleep", Sleep),
        func("subprocess.run", PROC),
        func("subprocess.call", PROC),
        func("subprocess.check_call", PROC),
        func("subprocess.check_output", PROC),
        func("subprocess.Popen", PROC),
        func("subprocess.getoutput", PROC),
        func("subprocess.getstatusoutput", PROC),
        func("os.system", PROC),
        func("os.popen", PROC),
        func("os.posix_spawn", PROC),
        func("os.posix_spawnp", PROC),
        func("os.spawnl", PROC),
        func("os.spawnle", PROC),
        func("os.spawnlp", PROC),
        func("os.spawnv", PROC),
        func("os.spawnve", PROC),
        func("os.spawnvp", PROC),
        func("os.wait", PROC),
        func("os.waitpid", PROC),
        func("os.wait3", PROC),
        func("os.wait4", PROC),
        func("shutil.copy", FILE),
        func("shutil.copy2", FILE),
        func("shutil.copyfile", FILE),
        func("shutil.copytree", FILE),
        func("shutil.rmtree", FILE),
        func("shutil.move", FILE),
        func("socket.create_connection", Blocking(Socket)),
        func("asyncio.to_thread", Offload),
        func("anyio.to_thread.run_sync", Offload),
        func("asgiref.sync.sync_to_async", Offload),
        func("channels.db.database_sync_to_async", Offload),
        func("starlette.concurrency.run_in_threadpool", Offload),
        func("fastapi.concurrency.run_in_threadpool", Offload),
        func("trio.to_thread.run_sync", Offload),
    ],
    types: &[],
    methods: &[
        // pathlib.Path I/O: the names are specific enough to match on any
        // receiver; awaited calls (anyio.Path, aiofiles) are excluded by the rule.
        method(&[], "read_text", FILE),
        method(&[], "read_bytes", FILE),
        method(&[], "write_text", FILE),
        method(&[], "write_bytes", FILE),
        method(&[], "run_in_executor", Offload),
    ],
    hints: &[],
    attributes: &[],
};
