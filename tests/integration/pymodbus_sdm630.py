"""An Eastron SDM630 served by pymodbus (a Modbus implementation we did not write).

Usage: pymodbus_sdm630.py PORT ADDRESS L1 L2 L3 P1 P2 P3 IMPORT_KWH EXPORT_KWH
Currents in A (magnitudes), powers in W per phase (sign = direction), energies in kWh.
Registers follow Eastron's documentation: input registers, IEEE 754 float32, high word first.
"""

import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer

try:  # pymodbus 3.0 (Debian 12)
    from pymodbus.transaction import ModbusRtuFramer as RTU
except ImportError:  # pymodbus 3.8 (Debian 13)
    from pymodbus import FramerType

    RTU = FramerType.RTU


def words(value):
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def main():
    port, address = sys.argv[1], int(sys.argv[2])
    l1, l2, l3, p1, p2, p3, imp, exp = (float(v) for v in sys.argv[3:11])
    registers = [0] * 0x0100
    for i, value in enumerate((l1, l2, l3)):
        registers[0x0006 + 2 * i:0x0006 + 2 * i + 2] = words(value)
    for i, value in enumerate((p1, p2, p3)):
        registers[0x000C + 2 * i:0x000C + 2 * i + 2] = words(value)
    registers[0x0034:0x0036] = words(p1 + p2 + p3)
    registers[0x0048:0x004A] = words(imp)
    registers[0x004A:0x004C] = words(exp)
    try:
        store = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, registers), zero_mode=True)
    except TypeError:  # pymodbus >= 3.7 always adds one to the PDU address
        store = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, [0] + registers))
    context = ModbusServerContext(slaves={address: store}, single=False)
    print("ready", flush=True)
    StartSerialServer(context=context, framer=RTU, port=port, baudrate=9600, bytesize=8, parity="N", stopbits=1,
                      ignore_missing_slaves=True)


if __name__ == "__main__":
    main()
