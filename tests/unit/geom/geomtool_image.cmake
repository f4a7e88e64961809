# geomtool end to end: label an image, put a GPT inside the label, add two
# partitions, then load the image into an MD and expect label/root,
# label/rootp1 and label/rootp2 (and no md0p1).
file(REMOVE ${IMG})
file(WRITE ${IMG} "")
execute_process(COMMAND truncate -s 16M ${IMG} RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "truncate failed")
endif()
foreach(cmd "label;-n;root" "gpt;create" "gpt;add;-s;4M;-t;linux-data;-l;boot" "gpt;add;-s;2M"
    "show")
  execute_process(COMMAND ${TOOL} ${cmd} ${IMG} RESULT_VARIABLE r)
  if(r)
    message(FATAL_ERROR "geomtool ${cmd} failed: ${r}")
  endif()
endforeach()
execute_process(COMMAND ${CHECKER} --image ${IMG} label/root label/rootp1 label/rootp2 !md0p1
  RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "the kernel code did not see what geomtool wrote")
endif()
# destroy removes the label: then neither label/root nor the GPT inside it.
execute_process(COMMAND ${TOOL} destroy ${IMG} RESULT_VARIABLE r)
execute_process(COMMAND ${CHECKER} --image ${IMG} !label/root !md0p1 RESULT_VARIABLE r2)
if(r OR r2)
  message(FATAL_ERROR "geomtool destroy did not remove the label")
endif()
file(REMOVE ${IMG})
