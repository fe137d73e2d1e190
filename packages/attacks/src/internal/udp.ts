// Loopback UDP sockets for mallory's networks and the scenarios' phones: bound to an ephemeral port on
// 127.0.0.1 (nothing leaves the machine), closed with a promise.
import { createSocket, type Socket } from 'node:dgram';

/** A udp4 socket bound to 127.0.0.1 on a port the kernel picks. */
export function bindLoopback(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Closes `socket`; resolves once it is closed. */
export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.close(() => {
      resolve();
    });
  });
}
