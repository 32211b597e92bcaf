/**
 * `node --import ./bench/without-thumbhash.js …`: runs rethumb with its ThumbHash computation
 * replaced by a stub returning nothing, so a bench experiment can compare rethumb with and
 * without the hash without the library carrying a switch for it. The module is swapped at load
 * time (a Node module hook), so everything else is the code under test.
 */
import { register } from 'node:module';

register('./without-thumbhash-hooks.js', import.meta.url);
