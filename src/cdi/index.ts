/**
 * The Container Device Interface (CNCF container-device-interface, spec versions 0.3.0 to
 * 1.1.0): spec files describe devices by qualified name (`vendor.com/class=name`) and the
 * edits a container that asks for one gets (env, device nodes, mounts, hooks, groups,
 * intelRdt). registry.ts loads the specs, resolve.ts merges what names ask for, apply.ts
 * edits the OCI spec, gpus.ts maps `--gpus` onto NVIDIA's devices, request.ts is the entry
 * create and start use.
 */
export { applyCdiInjection, completeDeviceNode } from './apply.ts';
export { cdiSpecDirs, DEFAULT_CDI_SPEC_DIRS, useCdiSpecDirs } from './dirs.ts';
export { csvFields, GPU_KIND, gpuRequestDevices, NVIDIA_CTK_HINT, parseGpus, type GpuRequest } from './gpus.ts';
export { looksQualified, parseQualifiedName, type QualifiedName } from './names.ts';
export { loadCdiRegistry, MAX_SPEC_FILE_BYTES, readSpecFile, type CdiRegistry, type LoadedSpec, type RegisteredDevice, type SpecError } from './registry.ts';
export { cdiInjectionFor, checkCdiRequest, deviceRequestsView, wantsCdi, type CdiRequest } from './request.ts';
export { resolveCdiDevices, type CdiInjection, type CdiOciMount } from './resolve.ts';
export { CDI_VERSIONS, requiredVersion, SpecFieldError, validateSpec, type CdiSpec } from './spec-schema.ts';
