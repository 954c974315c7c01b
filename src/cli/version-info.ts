/** berth's own version, which `berth version`, `-v` and `berth serve`'s answers name. */
export const BERTH_VERSION = '0.1.0';
