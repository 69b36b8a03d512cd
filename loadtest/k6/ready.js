// k6 run -e BASE_URL=http://localhost:8080 loadtest/k6/ready.js
// The "ready" scenario of loadtest/scenarios.json; see loadtest/README.md.
import { iterate, optionsFor } from './lib.js';

export const options = optionsFor('ready');

export default function () {
  iterate('ready');
}
