#!/usr/bin/env python3
"""A barrier's Modbus I/O board played by pymodbus, a public Modbus slave, for
drivers/tests/gate_pymodbus.rs: the real ModbusGate driver talks to it over Modbus TCP or RTU.

The board is wired by the same JSON map the driver and `gatehouse device gate --map` take
(unit_id, open_coil, close_coil, open_limit, closed_limit, loops; inverted inputs read low when
active). A rising edge on the open coil lifts the arm: it leaves the closed limit at once and
reaches the open limit after --travel-ms; the close coil lowers it the same way.

    pymodbus_board.py --map MAP.json (--tcp PORT | --rtu PATH [--baud 19200]) [--travel-ms 150]

stdout, one JSON object a line:
    {"serving": "tcp", "address": "127.0.0.1:40123", "pymodbus": "3.11.4"}   (or "rtu", "path")
    {"coil": 0, "on": true}      every coil write, in order
    {"arm": "opening"} ... {"arm": "open"}
    {"command": "loop arming on", "done": true}   (or "error": "...")
stdin, one command a line:
    loop NAME on|off             occupy or clear a loop detector
    quit                         stop (so does the end of stdin)
"""

import argparse
import asyncio
import json
import sys
import threading

try:
    import pymodbus
    import serial
    from pymodbus.constants import ExcCodes
    from pymodbus.datastore import ModbusServerContext
    from pymodbus.datastore.context import ModbusBaseDeviceContext
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusSerialServer, ModbusTcpServer
except ImportError as e:  # the test turns this into "run ./dev setup"
    print(
        f"pymodbus_board: cannot import pymodbus ({e}) in {sys.executable}; "
        "run ./dev setup to make the venv with drivers/tests/requirements.txt",
        file=sys.stderr,
    )
    sys.exit(3)


def say(obj):
    print(json.dumps(obj), flush=True)


class GateBoard(ModbusBaseDeviceContext):
    """The board's inputs, coils and holding registers, at the addresses on the wire."""

    def __init__(self, gate_map, travel_s, loop):
        self.map = gate_map
        self.travel_s = travel_s
        self.loop = loop
        self.arm = "closed"
        self.arrival = None
        self.coils = {}
        self.registers = {}
        self.loops = {l["name"]: False for l in gate_map.get("loops", [])}

    # --- the barrier ---------------------------------------------------------------------

    def start(self, target):
        moving = "opening" if target == "open" else "closing"
        if self.arm in (target, moving):
            return
        self.arm = moving
        say({"arm": moving})
        if self.arrival:
            self.arrival.cancel()
        self.arrival = self.loop.call_later(self.travel_s, self.arrive, target)

    def arrive(self, target):
        self.arrival = None
        self.arm = target
        say({"arm": target})

    def write_coil(self, address, on):
        say({"coil": address, "on": on})
        was = self.coils.get(address, False)
        self.coils[address] = on
        if on and not was:
            if address == self.map["open_coil"]:
                self.start("open")
            elif address == self.map.get("close_coil"):
                self.start("closed")

    def raw_input(self, address):
        def level(active, spec):
            return active != bool(spec.get("inverted", False))

        if address == self.map["open_limit"]["address"]:
            return level(self.arm == "open", self.map["open_limit"])
        if address == self.map["closed_limit"]["address"]:
            return level(self.arm == "closed", self.map["closed_limit"])
        for spec in self.map.get("loops", []):
            if spec["address"] == address:
                return level(self.loops[spec["name"]], spec)
        return False

    # --- pymodbus datastore interface ----------------------------------------------------

    def reset(self):
        pass

    def getValues(self, func_code, address, count=1):
        span = range(address, address + count)
        if address + count > 0x10000:
            return ExcCodes.ILLEGAL_ADDRESS
        if func_code == 2:
            return [self.raw_input(a) for a in span]
        if func_code in (1, 5, 15):
            return [self.coils.get(a, False) for a in span]
        if func_code in (3, 6, 16):
            return [self.registers.get(a, 0) for a in span]
        if func_code == 4:
            return [0 for _ in span]
        return ExcCodes.ILLEGAL_FUNCTION

    def setValues(self, func_code, address, values):
        if address + len(values) > 0x10000:
            return ExcCodes.ILLEGAL_ADDRESS
        if func_code in (5, 15):
            for offset, on in enumerate(values):
                self.write_coil(address + offset, bool(on))
            return None
        if func_code in (6, 16):
            for offset, value in enumerate(values):
                self.registers[address + offset] = int(value)
            return None
        return ExcCodes.ILLEGAL_FUNCTION

    # --- stdin ---------------------------------------------------------------------------

    def command(self, line):
        words = line.split()
        if len(words) == 3 and words[0] == "loop" and words[2] in ("on", "off"):
            if words[1] not in self.loops:
                return f"no loop named {words[1]!r}; the map has {sorted(self.loops)}"
            self.loops[words[1]] = words[2] == "on"
            return None
        return "commands: loop NAME on|off, quit"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", required=True, help="the gate map as JSON (a file)")
    link = parser.add_mutually_exclusive_group(required=True)
    link.add_argument("--tcp", type=int, metavar="PORT", help="Modbus TCP on 127.0.0.1:PORT (0: any free port)")
    link.add_argument("--rtu", metavar="PATH", help="Modbus RTU on this serial port or pty")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--travel-ms", type=int, default=150)
    args = parser.parse_args()

    with open(args.map, encoding="utf-8") as f:
        gate_map = json.load(f)
    if gate_map.get("close_coil") is None:
        parser.error("the map needs a close_coil: this board does not close the arm by itself")

    loop = asyncio.get_running_loop()
    board = GateBoard(gate_map, args.travel_ms / 1000, loop)
    unit = int(gate_map["unit_id"])
    context = ModbusServerContext(devices={unit: board}, single=False)
    if args.tcp is not None:
        server = ModbusTcpServer(context, address=("127.0.0.1", args.tcp))
    else:
        # A board that powers up has not heard what was sent while it was off: drop anything
        # still queued on the line before serving.
        with serial.Serial(args.rtu, args.baud) as port:
            port.reset_input_buffer()
        # On a serial line requests for other units are not ours: stay silent, like a real bus.
        server = ModbusSerialServer(
            context,
            framer=FramerType.RTU,
            port=args.rtu,
            baudrate=args.baud,
            bytesize=8,
            parity="N",
            stopbits=1,
            ignore_missing_devices=True,
        )
    await server.serve_forever(background=True)
    if args.tcp is not None:
        host, port = server.transport.sockets[0].getsockname()[:2]
        say({"serving": "tcp", "address": f"{host}:{port}", "pymodbus": pymodbus.__version__})
    else:
        say({"serving": "rtu", "path": args.rtu, "pymodbus": pymodbus.__version__})

    done = loop.create_future()

    def on_line(line):
        line = line.strip()
        if not line:
            return
        if line == "quit":
            if not done.done():
                done.set_result(None)
            return
        error = board.command(line)
        say({"command": line, "error": error} if error else {"command": line, "done": True})

    def read_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(on_line, line)
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=read_stdin, daemon=True).start()
    await done
    await server.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
