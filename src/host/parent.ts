/*
 * How a worker process talks to the process that started it: Electron's utilityProcess gives it
 * process.parentPort, Node's child_process.fork gives it process.send / process.on('message').
 */

interface ParentPort<In, Out> {
  on(event: 'message', fn: (e: { data: In }) => void): void;
  postMessage(m: Out): void;
}

/** Sends to and listens on the parent, whichever way this process was started. */
export function parentChannel<In, Out>(): { send: (m: Out) => void; listen: (fn: (m: In) => void) => void } {
  const port = (process as unknown as { parentPort?: ParentPort<In, Out> }).parentPort;
  return {
    send: (m) => {
      if (port) port.postMessage(m);
      else process.send?.(m);
    },
    listen: (fn) => {
      if (port) port.on('message', (e) => fn(e.data));
      else process.on('message', (m) => fn(m as In));
    }
  };
}
