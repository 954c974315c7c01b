/** Docker-style random container names: `adjective_surname`. */
import { randomInt } from '../sys/crypto.ts';

const LEFT = ['admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'clever', 'cool', 'dreamy', 'eager', 'ecstatic', 'elegant', 'epic', 'focused', 'friendly', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly', 'keen', 'kind', 'loving', 'lucid', 'magical', 'modest', 'nice', 'nifty', 'optimistic', 'peaceful', 'practical', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly', 'youthful', 'zealous'];
const RIGHT = ['albattani', 'babbage', 'bardeen', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'fermat', 'feynman', 'gauss', 'goodall', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamport', 'lovelace', 'mccarthy', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wiles', 'wozniak'];

export function randomName(): string {
  return `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
}

export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
