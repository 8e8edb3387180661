"""Start a distributed training job on MXNet's parameter server: python3 -m core.launch --workers 2 --servers 1 -- CMD.

The job is one ps-lite scheduler, ``--servers`` servers and ``--workers``
workers. The workers run CMD (a training script with ``--kvstore dist_sync``);
the scheduler and the servers are mxnet itself (``import mxnet`` with
``DMLC_ROLE`` set runs a server until the workers finish). This launcher sets
the ``DMLC_*`` variables, starts every process, prefixes each line a worker
writes with its rank, and stops them all when the job ends or any part fails.
Its exit status is the job's.

Why not mxnet's own tools/launch.py and the dmlc_tracker it ships: that
tracker calls ``Thread.isAlive()``, which Python 3.9 removed, binds a
non-loopback address, and when one worker fails it raises in a thread and
leaves the others waiting forever. No maintained replacement is on PyPI.

Without ``--hostfile`` every process runs on this machine, on 127.0.0.1.
With it, the workers and servers are spread over the hosts it lists (one
``HOST`` or ``HOST:SSH_PORT`` a line) and started with ssh, in the same
folder as here: the project and its virtual environment must be at the same
path on every host, and for ``--resume`` so must the run folder (a shared disk).
"""
import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

STOP_GRACE_S = 10      # after a SIGINT or SIGTERM, how long the processes get before SIGKILL
RANK_LINE = re.compile(r'dist_sync: worker rank (\d+) of (\d+)')


class LaunchError(Exception):
    """A job that cannot start or that failed: one line for the user."""


def free_port(host='127.0.0.1'):
    """A TCP port nobody listens on now (the scheduler binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def read_hostfile(path):
    """[(host, ssh_port)] from a host file: one HOST or HOST:PORT a line; blank lines and # comments skipped."""
    try:
        with open(path) as f:
            lines = [line.split('#')[0].strip() for line in f]
    except OSError as e:
        raise LaunchError(f"--hostfile: cannot read {path}: {e.strerror}") from None
    hosts = []
    for line in filter(None, lines):
        host, _, port = line.partition(':')
        if not host or (port and not port.isdigit()):
            raise LaunchError(f"--hostfile {path}: {line!r} is not HOST or HOST:PORT")
        hosts.append((host, port or '22'))
    if not hosts:
        raise LaunchError(f"--hostfile {path} lists no host")
    return hosts


def job_environment(workers, servers, root_host, root_port, node_host, interface):
    """The ps-lite variables every process of the job gets (DMLC_ROLE is added per process)."""
    env = {'DMLC_NUM_WORKER': str(workers), 'DMLC_NUM_SERVER': str(servers),
           'DMLC_PS_ROOT_URI': root_host, 'DMLC_PS_ROOT_PORT': str(root_port)}
    if node_host:
        env['DMLC_NODE_HOST'] = node_host
    if interface:
        env['DMLC_INTERFACE'] = interface
    return env


def worker_threads(workers, cores=None):
    """OpenMP threads per worker on one machine: the cores shared out, so the workers do not fight for them."""
    return max(1, (cores or os.cpu_count() or 1) // workers)


class Part:
    """One process of the job: its role, its index among that role, the Popen, and the label of its lines."""

    def __init__(self, role, index, command, env, remote=None):
        self.role, self.index = role, index
        self.label = f'{role} {index}'
        self.rank = None
        self.ended_at = None  # when this process was first seen ended
        if remote:  # ssh HOST 'cd DIR && VAR=... CMD': the remote shell runs it in the same folder
            host, port = remote
            assignments = ' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items() if k.startswith(('DMLC_', 'OMP_')))
            line = f'cd {shlex.quote(os.getcwd())} && env {assignments} {shlex.join(command)}'
            command = ['ssh', '-o', 'StrictHostKeyChecking=no', '-p', port, host, line]
            env = os.environ.copy()
        self.command = command
        # Its own process group: stopping the job stops whatever the part started too.
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.reader = threading.Thread(target=self._relay, daemon=True)
        self.reader.start()

    def _relay(self):
        """Copy the part's output to ours, each line (and each tqdm redraw after '\\r') prefixed with its label."""
        at_line_start = True
        stream = self.process.stdout
        while True:
            chunk = stream.read1(4096)  # what has arrived, up to 4 KB: tqdm's redraws come without newlines
            if not chunk:
                break
            text = chunk.decode('utf-8', 'replace')
            match = RANK_LINE.search(text)
            if match and self.role == 'worker':
                self.rank = int(match.group(1))
                self.label = f'rank {self.rank}'
            pieces = re.split(r'([\r\n])', text)
            out = []
            for piece in pieces:
                if piece in ('\r', '\n'):
                    out.append(piece)
                    at_line_start = True
                elif piece:
                    if at_line_start:
                        out.append(f'[{self.label}] ')
                    out.append(piece)
                    at_line_start = False
            sys.stdout.write(''.join(out))
            sys.stdout.flush()

    def signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def finished(self):
        done = self.process.poll() is not None
        if done and self.ended_at is None:
            self.ended_at = time.monotonic()
        return done


class Job:
    """The scheduler, the servers and the workers of one distributed run."""

    def __init__(self, args):
        self.args = args
        self.parts = []

    def start(self):
        args = self.args
        hosts = read_hostfile(args.hostfile) if args.hostfile else None
        root_host = args.host_ip or ('127.0.0.1' if not hosts else socket.gethostbyname(socket.gethostname()))
        port = args.port or free_port('127.0.0.1' if not hosts else '')
        local = hosts is None
        env = os.environ.copy()
        env.update(job_environment(args.workers, args.servers, root_host, port,
                                   node_host='127.0.0.1' if local else None, interface='lo' if local else None))
        env.setdefault('PYTHONUNBUFFERED', '1')
        serve = [sys.executable, '-c', 'import mxnet']  # with DMLC_ROLE set, importing mxnet runs the role
        self._add('scheduler', 0, serve, dict(env, DMLC_ROLE='scheduler'))
        placements = hosts or [None]
        for i in range(args.servers):
            self._add('server', i, serve, dict(env, DMLC_ROLE='server', OMP_NUM_THREADS='1'),
                      placements[i % len(placements)])
        threads = env.get('OMP_NUM_THREADS') or str(worker_threads(args.workers if local else 1))
        for i in range(args.workers):
            self._add('worker', i, args.command, dict(env, DMLC_ROLE='worker', OMP_NUM_THREADS=threads),
                      placements[(args.servers + i) % len(placements)])
            print(f"[launch] worker {i}: pid {self.parts[-1].process.pid}", flush=True)

    def _add(self, role, index, command, env, remote=None):
        try:
            self.parts.append(Part(role, index, command, env, remote))
        except OSError as e:
            raise LaunchError(f"cannot start the {role} {index} ({shlex.join(command)}): {e.strerror}") from None

    @property
    def workers(self):
        return [p for p in self.parts if p.role == 'worker']

    def wait(self, stop_requested):
        """Watch the parts until the workers finish or one part fails; returns the job's exit status."""
        joined_by = time.monotonic() + self.args.join_timeout
        while True:
            if stop_requested.is_set():
                return self._interrupt()
            if all(w.finished() and w.process.returncode == 0 for w in self.workers):
                return self._finish()
            for part in self.parts:
                if not part.finished():
                    continue
                code = part.process.returncode
                if part.role == 'worker' and code == 0:
                    continue
                if part.role != 'worker' and code == 0 and time.monotonic() < part.ended_at + STOP_GRACE_S:
                    continue  # servers and the scheduler end as the last workers end
                what = 'was killed' if code < 0 else f'exited with status {code}'
                if code == 0:
                    what = 'ended before the workers'
                self.stop(signal.SIGTERM)
                raise LaunchError(f"{part.label} {what}; stopped the job (its last checkpoint is intact: "
                                  "--resume continues it)", code if code > 0 else 1)
            late = [w for w in self.workers if w.rank is None]
            if late and time.monotonic() > joined_by:
                self.stop(signal.SIGTERM)
                raise LaunchError(f"{late[0].label} did not join the job within {self.args.join_timeout:g} s: "
                                  "the scheduler or a server cannot be reached (check --hostfile, the port and "
                                  "the firewall), or the command does not train with --kvstore dist_sync", 1)
            time.sleep(0.1)

    def _interrupt(self):
        """Ctrl-C: the workers stop after one common iteration and worker 0 saves; then the rest ends."""
        for worker in self.workers:
            worker.signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and not all(w.finished() for w in self.workers):
            time.sleep(0.1)
        return self.stop(signal.SIGTERM, 130)

    def _finish(self):
        """All workers succeeded: give the servers and the scheduler a moment to end on their own."""
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and not all(p.finished() for p in self.parts):
            time.sleep(0.1)
        self.stop(signal.SIGTERM)
        return 0

    def stop(self, signum, status=None):
        """Send ``signum`` to every part still running, then SIGKILL what is left after the grace time."""
        for part in self.parts:
            if not part.finished():
                part.signal(signum)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and not all(p.finished() for p in self.parts):
            time.sleep(0.1)
        for part in self.parts:
            part.signal(signal.SIGKILL)  # the group too: anything a part started
            part.process.wait()
            part.reader.join(timeout=1)
        return status


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python3 -m core.launch', description=__doc__.split('\n')[0],
                                     usage='python3 -m core.launch --workers N --servers M [options] -- COMMAND ...')
    parser.add_argument('--workers', type=int, default=2, help='worker processes (each runs COMMAND)')
    parser.add_argument('--servers', type=int, default=1, help='parameter-server processes')
    parser.add_argument('--hostfile', default=None,
                        help='run across these hosts (one HOST or HOST:SSH_PORT a line) with ssh; default: all here')
    parser.add_argument('--host-ip', default=None,
                        help="this machine's address as the other hosts reach it (default: 127.0.0.1 without "
                             "--hostfile, else this host name's address)")
    parser.add_argument('--port', type=int, default=0, help="the scheduler's port (default: a free one)")
    parser.add_argument('--join-timeout', type=float, default=300,
                        help='seconds a worker may take to join the job before it is stopped')
    if '--' not in argv:
        parser.parse_known_args(argv)  # --help prints the help and exits; the rest gets the line below
        parser.error("give the command after '--', e.g. -- python3 CGAN/train.py --kvstore dist_sync")
    split = argv.index('--')
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1:]
    if not args.command:
        parser.error("the command after '--' is empty")
    if args.workers < 1 or args.servers < 1:
        parser.error("--workers and --servers must be at least 1")
    if args.command[0] in ('python', 'python3'):
        args.command[0] = sys.executable  # the same Python (and virtual environment) as the launcher
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    job = Job(args)
    stop_requested = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop_requested.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        job.start()
        return job.wait(stop_requested)
    except LaunchError as e:
        job.stop(signal.SIGTERM)
        print(f"error: {e.args[0]}", file=sys.stderr)
        return e.args[1] if len(e.args) > 1 else 2
    finally:
        job.stop(signal.SIGKILL)  # never leave a process behind, whatever happened
        for s, handler in previous.items():
            signal.signal(s, handler)


if __name__ == '__main__':
    sys.exit(main())
