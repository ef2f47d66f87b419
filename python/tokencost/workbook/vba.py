"""The workbook's VBA project: read its modules, drop a module, write it back.

The main workbook carries xlwings' standalone VBA module (``xlwings``), which
lets classic Excel call the Python functions. The project comes from
xlwings' ``quickstart_standalone.xlsm``, which also holds a sample macro
(``Module1``: ``RunPython "import tokencost;tokencost.main()"``) that means
nothing here; :func:`without_modules` removes it.

A VBA project (``xl/vbaProject.bin``) is a Compound File (MS-CFB) holding a
``PROJECT`` text stream, a ``PROJECTwm`` name map and a ``VBA`` storage with a
compressed ``dir`` stream (the module list, MS-OVBA §2.3.4.2) and one stream
per module (a cache of compiled code, then the compressed source, MS-OVBA
§2.3.4.3). xlwings ships ``_VBA_PROJECT`` in the 7-byte form MS-OVBA §2.3.4.1
prescribes for writers (version 0xFFFF, no performance cache), which tells
Excel to ignore the modules' compiled caches and compile their source. The
rewrite changes no module's source: it drops whole modules and copies every
other stream byte for byte, so no cache can disagree with its source.

References: [MS-OVBA] Office VBA File Format Structure, v20240416 (§2.3.4,
§2.4.1 compression); [MS-CFB] Compound File Binary File Format, v20240423.
"""
from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from typing import Iterable, Optional

import olefile

# ------------------------------------------------------------------ MS-OVBA §2.4.1 compression

_CHUNK = 4096


def decompress(data: bytes) -> bytes:
    """Decompress a CompressedContainer (MS-OVBA §2.4.1.3.1)."""
    if not data or data[0] != 1:
        raise ValueError("not a compressed VBA container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0x7 != 0b011:
            raise ValueError(f"bad compressed chunk signature at byte {pos}")
        end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:      # an uncompressed chunk: 4096 raw bytes
            out += data[pos:pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One CompressedChunk (header + data) of up to 4096 bytes (MS-OVBA §2.4.1.3.7)."""
    body = bytearray()
    pos = 0
    heads: dict[bytes, list[int]] = {}
    n = len(chunk)
    while pos < n:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            bits = max((pos - 1).bit_length(), 4) if pos else 4
            max_length = (0xFFFF >> bits) + 3
            best_len, best_off = 0, 0
            for cand in reversed(heads.get(chunk[pos:pos + 3], ())[-64:]):
                length = 0
                limit = min(max_length, n - pos)
                while length < limit and chunk[cand + length] == chunk[pos + length]:
                    length += 1
                if length > best_len:
                    best_len, best_off = length, pos - cand
                    if length == limit:
                        break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                body.append(chunk[pos])
                step = 1
            for p in range(pos, pos + step):
                heads.setdefault(chunk[p:p + 3], []).append(p)
            pos += step
        body[flag_at] = flags
    if len(body) > _CHUNK:
        if n != _CHUNK:
            raise ValueError("a final VBA chunk that does not compress")
        return struct.pack("<H", 0x3FFF) + chunk        # raw: flag 0, signature 0b011, size 4095
    return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + bytes(body)


def compress(data: bytes) -> bytes:
    """Compress *data* into a CompressedContainer (MS-OVBA §2.4.1.3.6)."""
    out = bytearray(b"\x01")
    for i in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[i:i + _CHUNK])
    return bytes(out)


# ------------------------------------------------------------------ the dir stream (§2.3.4.2)

_MODULE_NAME = 0x0019
_MODULE_STREAM_NAME = 0x001A
_MODULE_OFFSET = 0x0031
_MODULE_TERMINATOR = 0x002B
_PROJECT_MODULES = 0x000F
_PROJECT_VERSION = 0x0009   # its Size field says 4, six bytes follow (§2.3.4.2.1.11)


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == _PROJECT_VERSION:
            size = 6
        out.append((rid, data[pos:pos + size]))
        pos += size
    return out


def _encode(records: Iterable[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for rid, body in records:
        size = 4 if rid == _PROJECT_VERSION else len(body)
        out += struct.pack("<HI", rid, size) + body
    return bytes(out)


@dataclass(frozen=True)
class Module:
    name: str
    stream: str
    offset: int           # where the source starts in the module stream (after compiled code)
    source: str


def _codepage(records) -> str:
    for rid, body in records:
        if rid == 0x0003:
            return f"cp{struct.unpack('<H', body)[0]}"
    return "cp1252"


def _module_groups(records) -> list[tuple[int, int]]:
    """[(first, last)] record indexes of each module's records."""
    groups, first = [], None
    for i, (rid, _body) in enumerate(records):
        if rid == _MODULE_NAME:
            first = i
        elif rid == _MODULE_TERMINATOR and first is not None:
            groups.append((first, i))
            first = None
    return groups


def read_modules(project: bytes) -> list[Module]:
    """The modules of a ``vbaProject.bin``, with their source text."""
    with olefile.OleFileIO(io.BytesIO(project)) as ole:
        records = _records(decompress(ole.openstream("VBA/dir").read()))
        codepage = _codepage(records)
        out = []
        for first, last in _module_groups(records):
            fields = dict(records[first:last])
            name = fields[_MODULE_NAME].decode(codepage)
            stream = fields.get(_MODULE_STREAM_NAME, fields[_MODULE_NAME]).decode(codepage)
            offset = struct.unpack("<I", fields[_MODULE_OFFSET])[0]
            raw = ole.openstream(f"VBA/{stream}").read()
            out.append(Module(name, stream, offset, decompress(raw[offset:]).decode(codepage)))
        return out


def constant(project: bytes, name: str) -> Optional[str]:
    """The value of ``Const NAME = "..."`` in any module (e.g. ``XLWINGS_VERSION``)."""
    pattern = re.compile(rf'^\s*(?:Public\s+|Private\s+)?Const\s+{re.escape(name)}\s+As\s+String'
                         r'\s*=\s*"([^"]*)"', re.I | re.M)
    for module in read_modules(project):
        m = pattern.search(module.source)
        if m:
            return m.group(1)
    return None


def without_modules(project: bytes, names: Iterable[str]) -> bytes:
    """A copy of *project* without the standard modules *names*.

    The ``dir`` stream loses each module's records (and its count), ``PROJECT``
    its ``Module=`` and workspace lines, ``PROJECTwm`` its name pair, the
    ``VBA`` storage the module's stream. Every other stream is copied byte for byte.
    """
    drop = {n.casefold() for n in names}
    with olefile.OleFileIO(io.BytesIO(project)) as ole:
        streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
    records = _records(decompress(streams["VBA/dir"]))
    codepage = _codepage(records)
    keep, dropped = [], []
    groups = _module_groups(records)
    skip = set()
    for first, last in groups:
        fields = dict(records[first:last])
        name = fields[_MODULE_NAME].decode(codepage)
        if name.casefold() in drop:
            dropped.append((name, fields.get(_MODULE_STREAM_NAME, fields[_MODULE_NAME]).decode(codepage)))
            skip.update(range(first, last + 1))
    missing = drop - {n.casefold() for n, _s in dropped}
    if missing:
        raise ValueError(f"the VBA project has no module {sorted(missing)[0]}")
    for i, (rid, body) in enumerate(records):
        if i in skip:
            continue
        if rid == _PROJECT_MODULES:
            body = struct.pack("<H", struct.unpack("<H", body)[0] - len(dropped))
        keep.append((rid, body))
    streams["VBA/dir"] = compress(_encode(keep))
    for _name, stream in dropped:
        del streams[f"VBA/{stream}"]
    lines = streams["PROJECT"].decode(codepage).split("\r\n")
    gone = {n.casefold() for n, _s in dropped}
    lines = [ln for ln in lines
             if not (ln.partition("=")[0].strip().casefold() in ("module",) and
                     ln.partition("=")[2].strip().casefold() in gone)
             and ln.partition("=")[0].strip().casefold() not in gone]
    streams["PROJECT"] = "\r\n".join(lines).encode(codepage)
    if "PROJECTwm" in streams:
        streams["PROJECTwm"] = _name_map_without(streams["PROJECTwm"], gone, codepage)
    return write_compound_file(streams)


def _name_map_without(data: bytes, gone: set, codepage: str) -> bytes:
    """PROJECTwm (§2.3.3): pairs of (MBCS name NUL, UTF-16 name NUL NUL), then NUL NUL."""
    out, pos = bytearray(), 0
    while pos < len(data) - 2:
        end = data.index(b"\x00", pos)
        mbcs = data[pos:end]
        upos = end + 1
        uend = upos
        while data[uend:uend + 2] != b"\x00\x00":
            uend += 2
        if mbcs.decode(codepage).casefold() not in gone:
            out += data[pos:uend + 2]
        pos = uend + 2
    return bytes(out) + b"\x00\x00"


# ------------------------------------------------------------------ MS-CFB writer (version 3)

_SECTOR = 512
_MINI = 64
_MINI_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb_key(name: str):
    """MS-CFB §2.6.4 order: shorter names first, then by upper-case UTF-16 code units."""
    return (len(name), name.upper())


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, "_Entry"] = {}
        self.left = self.right = self.child = _NOSTREAM
        self.black = True
        self.start, self.size = _END, 0


def _tree(entries: list, ids: dict, depth: int, red_depth: int) -> int:
    """A balanced binary search tree of *entries* (sorted by :func:`_cfb_key`); returns the
    root's id. Built by halving, its leaves lie on the last two levels; the nodes at
    *red_depth* (the last level of an incomplete tree, else -1) are red, all others black,
    so every path has the same number of black nodes (MS-CFB §2.6.4)."""
    if not entries:
        return _NOSTREAM
    mid = len(entries) // 2
    node = entries[mid]
    node.left = _tree(entries[:mid], ids, depth + 1, red_depth)
    node.right = _tree(entries[mid + 1:], ids, depth + 1, red_depth)
    node.black = depth != red_depth
    return ids[id(node)]


def _chain(fat: list, count: int) -> int:
    """Allocate *count* consecutive sectors in *fat*; returns the first (ENDOFCHAIN for none)."""
    if count == 0:
        return _END
    first = len(fat)
    fat.extend(range(first + 1, first + count))
    fat.append(_END)
    return first


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """A Compound File (MS-CFB version 3, 512-byte sectors) holding *streams*
    (``{"VBA/dir": bytes, ...}``; storages are made from the paths)."""
    root = _Entry("Root Entry", 5)
    for path, data in sorted(streams.items()):
        *folders, leaf = path.split("/")
        parent = root
        for folder in folders:
            parent = parent.children.setdefault(folder, _Entry(folder, 1))
        parent.children[leaf] = _Entry(leaf, 2, data)
    order = [root]
    for entry in order:          # breadth-first: ids in the directory
        order.extend(sorted(entry.children.values(), key=lambda e: _cfb_key(e.name)))
    ids = {id(e): i for i, e in enumerate(order)}
    for entry in order:
        kids = sorted(entry.children.values(), key=lambda e: _cfb_key(e.name))
        n = len(kids)
        perfect = (n + 1) & n == 0
        entry.child = _tree(kids, ids, 0, -1 if perfect else n.bit_length() - 1)
    # mini stream: streams under the cutoff, in 64-byte mini sectors
    mini, minifat = bytearray(), []
    for e in order:
        if e.kind == 2 and len(e.data) < _MINI_CUTOFF:
            e.size = len(e.data)
            if e.size:
                e.start = _chain(minifat, -(-e.size // _MINI))
                mini += e.data + b"\x00" * (-len(e.data) % _MINI)
            else:
                e.start = _END
    fat: list[int] = []
    big = [e for e in order if e.kind == 2 and len(e.data) >= _MINI_CUTOFF]
    body = bytearray()
    for e in big:
        e.size = len(e.data)
        e.start = _chain(fat, -(-e.size // _SECTOR))
        body += e.data + b"\x00" * (-len(e.data) % _SECTOR)
    root.size = len(mini)
    root.start = _chain(fat, -(-len(mini) // _SECTOR))
    body += mini + b"\x00" * (-len(mini) % _SECTOR)
    minifat_bytes = b"".join(struct.pack("<I", x) for x in minifat)
    minifat_bytes += b"\xff" * (-len(minifat_bytes) % _SECTOR)
    minifat_start = _chain(fat, len(minifat_bytes) // _SECTOR)
    body += minifat_bytes
    directory = bytearray()
    for e in order:
        name = e.name.encode("utf-16-le")
        if len(name) > 62:
            raise ValueError(f"compound-file name too long: {e.name}")
        directory += name + b"\x00" * (64 - len(name))
        directory += struct.pack("<HBB", len(name) + 2, e.kind, 1 if e.black else 0)
        directory += struct.pack("<III", e.left, e.right, e.child)
        directory += b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16
        directory += struct.pack("<IQ", 0 if e.kind == 1 else e.start, e.size)
    empty = b"\x00" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", *(_NOSTREAM,) * 3)
    empty += b"\x00" * (128 - len(empty))
    while len(directory) % _SECTOR:
        directory += empty
    directory_start = _chain(fat, len(directory) // _SECTOR)
    body += directory
    # the FAT covers itself: find how many FAT sectors the whole file needs
    n_fat = 1
    while (len(fat) + n_fat) > n_fat * (_SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("VBA project too large for a header-only DIFAT")
    fat_start = len(fat)
    fat.extend([_FATSECT] * n_fat)
    fat.extend([_FREE] * (n_fat * (_SECTOR // 4) - len(fat)))
    fat_bytes = b"".join(struct.pack("<I", x) for x in fat)
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16)
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, n_fat, directory_start, 0, _MINI_CUTOFF,
                          minifat_start if minifat else _END, len(minifat_bytes) // _SECTOR,
                          _END, 0)
    difat = [fat_start + i for i in range(n_fat)] + [_FREE] * (109 - n_fat)
    header += b"".join(struct.pack("<I", x) for x in difat)
    assert len(header) == _SECTOR
    return bytes(header) + bytes(body) + fat_bytes
