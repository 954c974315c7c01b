/** docker's management forms of berth's top-level verbs: `container ls` is `ps`, `image rm` is `rmi`. */

/**
 * docker's management forms that are a top-level verb of berth under another name, with the
 * arguments that verb takes in front (`container inspect` is `inspect --type container`).
 * Forms a group file registers itself (`container prune`, `image inspect`, `system df`,
 * `volume ...`, `network ...`) are not here.
 */
export const FORWARDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  container: {
    attach: ['attach'],
    commit: ['commit'],
    cp: ['cp'],
    create: ['create'],
    diff: ['diff'],
    exec: ['exec'],
    export: ['export'],
    inspect: ['inspect', '--type', 'container'],
    kill: ['kill'],
    logs: ['logs'],
    ls: ['ps'],
    list: ['ps'],
    ps: ['ps'],
    pause: ['pause'],
    port: ['port'],
    rename: ['rename'],
    restart: ['restart'],
    rm: ['rm'],
    remove: ['rm'],
    run: ['run'],
    start: ['start'],
    stats: ['stats'],
    stop: ['stop'],
    top: ['top'],
    unpause: ['unpause'],
    update: ['update'],
    wait: ['wait'],
  },
  image: {
    build: ['build'],
    history: ['history'],
    import: ['import'],
    load: ['load'],
    ls: ['images'],
    list: ['images'],
    pull: ['pull'],
    push: ['push'],
    rm: ['rmi'],
    remove: ['rmi'],
    rmi: ['rmi'],
    save: ['save'],
    tag: ['tag'],
  },
  builder: { build: ['build'] },
  system: { info: ['info'], events: ['events'] },
};
