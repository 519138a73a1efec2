/* The guard's hot path in C: the getter `purposeful._guard.install_getter` generates, as
 * one callable per managed field, used as the guard property's fget.
 *
 * It does what the generated Python getter does (`_guard._getter_source`), in the same
 * order, and nothing else:
 *
 *     seen, last, inline, notes = fast_var.get()   # one context-variable get
 *     if last is obj:                       # the record read last
 *         if policy in seen:                # already read for it in this scope
 *             return <storage>
 *         if policy in inline:              # decided for the class: note it here
 *             seen.add(policy)
 *             if inline:                    # not emptied meanwhile by a close or a part
 *                 return <storage>
 *     elif policy in inline and type(obj) is cls:   # another record of the class
 *         if notes is free:                 # the scope's report goes nowhere
 *             return <storage>
 *         if notes is not None and len(notes.held) < notes.room:
 *             seen = {policy}               # note (subject, fields) for the report
 *             notes.held.append((<subject>, seen))
 *             fast_var.set((seen, obj, inline, notes))
 *             if inline:
 *                 return <storage>
 *     value = slow(obj)                     # decided (and noted) there, or refused
 *     if value is not read_it:
 *         return value
 *     return <storage>
 *
 * `slow` is a generated Python trampoline that calls `_guard.read_slow(policy, obj)`: the
 * slow path looks two frames up (`sys._getframe(2)`) for the code that read the field, and
 * the trampoline's frame stands where the Python getter's would. Everything that decides,
 * notes or refuses stays in Python; this file only answers the reads already decided.
 *
 * The subject: a slotted record's member descriptor (read as the storage is), else the
 * kind's reader, called. Storage: a slotted record's member descriptor (the slot is read at
 * its offset after the descriptor's own type check, as the descriptor does; it holds the
 * value sealed in a `_guard.ManagedValue`, opened through `kept`, that class's member), or
 * the instance `__dict__` (a key it does not hold goes to `missing`, or raises
 * `AttributeError(name)`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    PyObject *policy;   /* the field's FieldPolicy: compared by identity */
    PyObject *fast_var; /* _guard.fast_var, a ContextVar of (seen, last, inline) */
    PyObject *slow;     /* slow(obj): the value, or read_it */
    PyObject *read_it;  /* _guard.READ_IT */
    PyObject *storage;  /* the slot's member descriptor, or None for __dict__ */
    PyObject *name;     /* the field's name: the __dict__ key */
    PyObject *missing;  /* missing(obj) for a __dict__ key not held, or None */
    PyObject *cls;      /* the record class: another record of it may be noted here */
    PyObject *free;     /* _guard.FREE: the notes of a scope whose report goes nowhere */
    PyObject *subject;  /* the subject's member descriptor, or the kind's reader */
    PyObject *kept;     /* ManagedValue's member descriptor (a slot holds one), or None */
    PyObject *room;     /* the interned name "room" */
    PyObject *held;     /* the interned name "held" */
    PyObject *dict;     /* the guard's own attributes (__qualname__, ...) */
    PyMemberDef *member;      /* borrowed from storage */
    PyTypeObject *owner;      /* borrowed from storage: the class the slot belongs to */
    PyMemberDef *subject_member; /* borrowed from subject, or NULL */
    PyTypeObject *subject_owner; /* borrowed from subject, or NULL */
    PyMemberDef *kept_member;    /* borrowed from kept, or NULL */
    PyTypeObject *kept_owner;    /* borrowed from kept: ManagedValue, or NULL */
    vectorcallfunc vectorcall;
} Guard;

static PyObject *
read_storage(Guard *self, PyObject *obj)
{
    if (self->member != NULL) {
        PyObject *sealed;
        if (Py_IS_TYPE(obj, self->owner) || PyType_IsSubtype(Py_TYPE(obj), self->owner)) {
            sealed = PyMember_GetOne((const char *)obj, self->member);
        }
        else {
            /* not an instance of the slot's class: the descriptor raises its own TypeError */
            sealed = Py_TYPE(self->storage)->tp_descr_get(self->storage, obj,
                                                          (PyObject *)Py_TYPE(obj));
        }
        if (sealed == NULL || self->kept_member == NULL) {
            return sealed;
        }
        if (!Py_IS_TYPE(sealed, self->kept_owner)) {
            Py_DECREF(sealed);
            PyErr_Format(PyExc_TypeError, "the slot of managed field %R holds no sealed value",
                         self->name);
            return NULL;
        }
        PyObject *value = PyMember_GetOne((const char *)sealed, self->kept_member);
        Py_DECREF(sealed);
        return value;
    }
    PyObject *dict = PyObject_GenericGetDict(obj, NULL);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *value;
    if (PyDict_CheckExact(dict)) {
        value = PyDict_GetItemWithError(dict, self->name); /* borrowed */
        Py_XINCREF(value);
    }
    else {
        value = PyObject_GetItem(dict, self->name);
        if (value == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
        }
    }
    Py_DECREF(dict);
    if (value != NULL || PyErr_Occurred()) {
        return value;
    }
    if (self->missing != Py_None) {
        return PyObject_CallOneArg(self->missing, obj);
    }
    PyErr_SetObject(PyExc_AttributeError, self->name);
    return NULL;
}

static PyObject *
read_subject(Guard *self, PyObject *obj)
{
    if (self->subject_member != NULL && (Py_IS_TYPE(obj, self->subject_owner) ||
                                         PyType_IsSubtype(Py_TYPE(obj), self->subject_owner))) {
        return PyMember_GetOne((const char *)obj, self->subject_member);
    }
    if (self->subject_member != NULL) {
        return Py_TYPE(self->subject)->tp_descr_get(self->subject, obj, (PyObject *)Py_TYPE(obj));
    }
    return PyObject_CallOneArg(self->subject, obj);
}

/* Another record of the class, its field decided for the class: 1 to read it, 0 to take
 * the slow path, -1 on an error. */
static int
note_record(Guard *self, PyObject *obj, PyObject *inline_, PyObject *notes)
{
    if (notes == self->free) {
        return 1;
    }
    if (notes == Py_None) {
        return 0;
    }
    PyObject *room = PyObject_GetAttr(notes, self->room);
    if (room == NULL) {
        return -1;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(room);
    Py_DECREF(room);
    if (limit == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *held = PyObject_GetAttr(notes, self->held);
    if (held == NULL) {
        return -1;
    }
    if (!PyList_Check(held) || PyList_GET_SIZE(held) >= limit) {
        Py_DECREF(held);
        return 0;
    }
    PyObject *seen = PySet_New(NULL);
    if (seen == NULL) {
        Py_DECREF(held);
        return -1;
    }
    if (PySet_Add(seen, self->policy) < 0) {
        Py_DECREF(seen);
        Py_DECREF(held);
        return -1;
    }
    PyObject *subject = read_subject(self, obj);
    if (subject == NULL) {
        Py_DECREF(seen);
        Py_DECREF(held);
        return -1;
    }
    PyObject *note = PyTuple_Pack(2, subject, seen);
    Py_DECREF(subject);
    if (note == NULL) {
        Py_DECREF(seen);
        Py_DECREF(held);
        return -1;
    }
    int failed = PyList_Append(held, note);
    Py_DECREF(note);
    Py_DECREF(held);
    if (failed < 0) {
        Py_DECREF(seen);
        return -1;
    }
    PyObject *state = PyTuple_Pack(4, seen, obj, inline_, notes);
    Py_DECREF(seen);
    if (state == NULL) {
        return -1;
    }
    PyObject *token = PyContextVar_Set(self->fast_var, state);
    Py_DECREF(state);
    if (token == NULL) {
        return -1;
    }
    Py_DECREF(token);
    /* noted first, then read only if inline is still not empty (see the Python getter) */
    return PySet_GET_SIZE(inline_) > 0;
}

static PyObject *
guard_read(Guard *self, PyObject *obj)
{
    PyObject *state = NULL;
    if (PyContextVar_Get(self->fast_var, NULL, &state) < 0) {
        return NULL;
    }
    /* the variable has a default, so state is never NULL; anything but the library's
     * 4-tuple of a set, a record, a set and the notes takes the slow path, which decides */
    if (state != NULL && PyTuple_CheckExact(state) && PyTuple_GET_SIZE(state) == 4) {
        PyObject *seen = PyTuple_GET_ITEM(state, 0);
        PyObject *inline_ = PyTuple_GET_ITEM(state, 2);
        if (PyAnySet_Check(seen) && PyAnySet_Check(inline_)) {
            if (PyTuple_GET_ITEM(state, 1) == obj) {
                int found = PySet_Contains(seen, self->policy);
                if (found < 0) {
                    Py_DECREF(state);
                    return NULL;
                }
                if (found) {
                    Py_DECREF(state);
                    return read_storage(self, obj);
                }
                found = PySet_Contains(inline_, self->policy);
                if (found < 0) {
                    Py_DECREF(state);
                    return NULL;
                }
                /* noted first, then read only if inline is still not empty: a close (or a
                 * part) empties it first, so a note racing either goes to the slow path */
                if (found && PySet_Check(seen)) {
                    if (PySet_Add(seen, self->policy) < 0) {
                        Py_DECREF(state);
                        return NULL;
                    }
                    if (PySet_GET_SIZE(inline_) > 0) {
                        Py_DECREF(state);
                        return read_storage(self, obj);
                    }
                }
            }
            else if ((PyObject *)Py_TYPE(obj) == self->cls) {
                int found = PySet_Contains(inline_, self->policy);
                if (found < 0) {
                    Py_DECREF(state);
                    return NULL;
                }
                if (found) {
                    found = note_record(self, obj, inline_, PyTuple_GET_ITEM(state, 3));
                    if (found < 0) {
                        Py_DECREF(state);
                        return NULL;
                    }
                    if (found) {
                        Py_DECREF(state);
                        return read_storage(self, obj);
                    }
                }
            }
        }
    }
    Py_XDECREF(state);
    PyObject *args[1] = {obj};
    PyObject *value = PyObject_Vectorcall(self->slow, args, 1, NULL);
    if (value == NULL || value != self->read_it) {
        return value;
    }
    Py_DECREF(value);
    return read_storage(self, obj);
}

static PyObject *
guard_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a purposeful guard takes one argument, the record");
        return NULL;
    }
    Guard *self = (Guard *)callable;
    if (self->policy == NULL) { /* cleared by the garbage collector: reads nothing */
        PyErr_SetString(PyExc_RuntimeError, "a purposeful guard was cleared");
        return NULL;
    }
    return guard_read(self, args[0]);
}

static PyObject *
guard_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"policy", "fast_var", "slow", "read_it", "storage", "name",
                               "missing", "cls", "free", "subject", "kept", NULL};
    PyObject *policy, *fast_var, *slow, *read_it, *storage, *name, *missing, *cls, *free,
        *subject, *kept;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOUOOOOO:Guard", keywords, &policy,
                                     &fast_var, &slow, &read_it, &storage, &name, &missing,
                                     &cls, &free, &subject, &kept)) {
        return NULL;
    }
    PyMemberDef *kept_member = NULL;
    PyTypeObject *kept_owner = NULL;
    if (kept != Py_None) {
        if (!Py_IS_TYPE(kept, &PyMemberDescr_Type) || storage == Py_None) {
            PyErr_SetString(PyExc_TypeError,
                            "Guard: kept must be a member descriptor, with a storage, or None");
            return NULL;
        }
        kept_member = ((PyMemberDescrObject *)kept)->d_member;
        kept_owner = PyDescr_TYPE(kept);
    }
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "Guard: cls must be a class");
        return NULL;
    }
    PyMemberDef *subject_member = NULL;
    PyTypeObject *subject_owner = NULL;
    if (Py_IS_TYPE(subject, &PyMemberDescr_Type)) {
        subject_member = ((PyMemberDescrObject *)subject)->d_member;
        subject_owner = PyDescr_TYPE(subject);
    }
    else if (!PyCallable_Check(subject)) {
        PyErr_SetString(PyExc_TypeError, "Guard: subject must be a member descriptor or callable");
        return NULL;
    }
    PyObject *room = PyUnicode_InternFromString("room");
    if (room == NULL) {
        return NULL;
    }
    PyObject *held = PyUnicode_InternFromString("held");
    if (held == NULL) {
        Py_DECREF(room);
        return NULL;
    }
    if (!PyContextVar_CheckExact(fast_var)) {
        PyErr_SetString(PyExc_TypeError, "Guard: fast_var must be a ContextVar");
        return NULL;
    }
    if (!PyCallable_Check(slow) || (missing != Py_None && !PyCallable_Check(missing))) {
        PyErr_SetString(PyExc_TypeError, "Guard: slow and missing must be callable");
        return NULL;
    }
    PyMemberDef *member = NULL;
    PyTypeObject *owner = NULL;
    if (storage != Py_None) {
        if (!Py_IS_TYPE(storage, &PyMemberDescr_Type)) {
            PyErr_SetString(PyExc_TypeError, "Guard: storage must be a member descriptor or None");
            return NULL;
        }
        member = ((PyMemberDescrObject *)storage)->d_member;
        owner = PyDescr_TYPE(storage);
    }
    Guard *self = (Guard *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(room);
        Py_DECREF(held);
        return NULL;
    }
    self->policy = Py_NewRef(policy);
    self->fast_var = Py_NewRef(fast_var);
    self->slow = Py_NewRef(slow);
    self->read_it = Py_NewRef(read_it);
    self->storage = Py_NewRef(storage);
    self->name = Py_NewRef(name);
    self->missing = Py_NewRef(missing);
    self->cls = Py_NewRef(cls);
    self->free = Py_NewRef(free);
    self->subject = Py_NewRef(subject);
    self->kept = Py_NewRef(kept);
    self->room = room;
    self->held = held;
    self->dict = NULL;
    self->member = member;
    self->owner = owner;
    self->subject_member = subject_member;
    self->subject_owner = subject_owner;
    self->kept_member = kept_member;
    self->kept_owner = kept_owner;
    self->vectorcall = guard_vectorcall;
    return (PyObject *)self;
}

static int
guard_traverse(Guard *self, visitproc visit, void *arg)
{
    Py_VISIT(self->policy);
    Py_VISIT(self->fast_var);
    Py_VISIT(self->slow);
    Py_VISIT(self->read_it);
    Py_VISIT(self->storage);
    Py_VISIT(self->name);
    Py_VISIT(self->missing);
    Py_VISIT(self->cls);
    Py_VISIT(self->free);
    Py_VISIT(self->subject);
    Py_VISIT(self->kept);
    Py_VISIT(self->dict);
    return 0;
}

static int
guard_clear(Guard *self)
{
    /* storage goes last: member and owner are borrowed from it */
    self->member = NULL;
    self->owner = NULL;
    self->subject_member = NULL;
    self->subject_owner = NULL;
    self->kept_member = NULL;
    self->kept_owner = NULL;
    Py_CLEAR(self->policy);
    Py_CLEAR(self->fast_var);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->read_it);
    Py_CLEAR(self->name);
    Py_CLEAR(self->missing);
    Py_CLEAR(self->cls);
    Py_CLEAR(self->free);
    Py_CLEAR(self->subject);
    Py_CLEAR(self->kept);
    Py_CLEAR(self->room);
    Py_CLEAR(self->held);
    Py_CLEAR(self->dict);
    Py_CLEAR(self->storage);
    return 0;
}

static void
guard_dealloc(Guard *self)
{
    PyObject_GC_UnTrack(self);
    guard_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
guard_repr(Guard *self)
{
    if (self->name == NULL) {
        return PyUnicode_FromString("<purposeful compiled guard (cleared)>");
    }
    return PyUnicode_FromFormat("<purposeful compiled guard of %R>", self->name);
}

static PyMemberDef guard_members[] = {
    {"__purposeful_field__", T_OBJECT, offsetof(Guard, policy), READONLY,
     "The FieldPolicy this guard decides reads of."},
    {"__purposeful_storage__", T_OBJECT, offsetof(Guard, storage), READONLY,
     "The slot's member descriptor, or None for a field kept in __dict__."},
    {NULL},
};

static PyGetSetDef guard_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL},
};

static PyTypeObject GuardType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "purposeful._speedups.Guard",
    .tp_doc = PyDoc_STR("Guard(policy, fast_var, slow, read_it, storage, name, missing, cls, free, "
                        "subject, kept)\n--\n\n"
                        "The compiled getter of one managed field (see purposeful._guard)."),
    .tp_basicsize = sizeof(Guard),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = guard_new,
    .tp_dealloc = (destructor)guard_dealloc,
    .tp_traverse = (traverseproc)guard_traverse,
    .tp_clear = (inquiry)guard_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Guard, vectorcall),
    .tp_dictoffset = offsetof(Guard, dict),
    .tp_repr = (reprfunc)guard_repr,
    .tp_members = guard_members,
    .tp_getset = guard_getset,
};

/* The writer of a managed field kept in a slot: `_seal.sealed_access`'s `store`, compiled.
 * It seals the value in a new `_seal.ManagedValue` (its slot set through `kept`) and puts
 * that in the record's slot (through `storage`, after the descriptor's own type check). */
typedef struct {
    PyObject_HEAD
    PyObject *storage;        /* the record slot's member descriptor */
    PyObject *kept;           /* ManagedValue's member descriptor */
    PyMemberDef *member;      /* borrowed from storage */
    PyTypeObject *owner;      /* borrowed from storage */
    PyMemberDef *kept_member; /* borrowed from kept */
    PyTypeObject *kept_owner; /* borrowed from kept: ManagedValue */
    vectorcallfunc vectorcall;
} Sealer;

static PyObject *
sealer_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Sealer *self = (Sealer *)callable;
    if (PyVectorcall_NARGS(nargsf) != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a purposeful sealer takes the record and the value");
        return NULL;
    }
    if (self->storage == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a purposeful sealer was cleared");
        return NULL;
    }
    PyObject *obj = args[0];
    PyObject *sealed = self->kept_owner->tp_alloc(self->kept_owner, 0);
    if (sealed == NULL) {
        return NULL;
    }
    if (PyMember_SetOne((char *)sealed, self->kept_member, args[1]) < 0) {
        Py_DECREF(sealed);
        return NULL;
    }
    int done;
    if (Py_IS_TYPE(obj, self->owner) || PyType_IsSubtype(Py_TYPE(obj), self->owner)) {
        done = PyMember_SetOne((char *)obj, self->member, sealed);
    }
    else { /* not an instance of the slot's class: the descriptor raises its own TypeError */
        done = Py_TYPE(self->storage)->tp_descr_set(self->storage, obj, sealed);
    }
    Py_DECREF(sealed);
    if (done < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
sealer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"storage", "kept", NULL};
    PyObject *storage, *kept;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:Sealer", keywords, &storage, &kept)) {
        return NULL;
    }
    if (!Py_IS_TYPE(storage, &PyMemberDescr_Type) || !Py_IS_TYPE(kept, &PyMemberDescr_Type)) {
        PyErr_SetString(PyExc_TypeError, "Sealer: storage and kept must be member descriptors");
        return NULL;
    }
    Sealer *self = (Sealer *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->storage = Py_NewRef(storage);
    self->kept = Py_NewRef(kept);
    self->member = ((PyMemberDescrObject *)storage)->d_member;
    self->owner = PyDescr_TYPE(storage);
    self->kept_member = ((PyMemberDescrObject *)kept)->d_member;
    self->kept_owner = PyDescr_TYPE(kept);
    self->vectorcall = sealer_vectorcall;
    return (PyObject *)self;
}

static int
sealer_traverse(Sealer *self, visitproc visit, void *arg)
{
    Py_VISIT(self->storage);
    Py_VISIT(self->kept);
    return 0;
}

static int
sealer_clear(Sealer *self)
{
    self->member = NULL;
    self->owner = NULL;
    self->kept_member = NULL;
    self->kept_owner = NULL;
    Py_CLEAR(self->storage);
    Py_CLEAR(self->kept);
    return 0;
}

static void
sealer_dealloc(Sealer *self)
{
    PyObject_GC_UnTrack(self);
    sealer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject SealerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "purposeful._speedups.Sealer",
    .tp_doc = PyDoc_STR("Sealer(storage, kept)\n--\n\n"
                        "The compiled writer of a managed field kept in a slot "
                        "(see purposeful._seal)."),
    .tp_basicsize = sizeof(Sealer),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = sealer_new,
    .tp_dealloc = (destructor)sealer_dealloc,
    .tp_traverse = (traverseproc)sealer_traverse,
    .tp_clear = (inquiry)sealer_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Sealer, vectorcall),
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "purposeful._speedups",
    .m_doc = PyDoc_STR("The guard's hot path, compiled (see purposeful._guard)."),
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&GuardType) < 0 || PyType_Ready(&SealerType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Guard", (PyObject *)&GuardType) < 0 ||
        PyModule_AddObjectRef(module, "Sealer", (PyObject *)&SealerType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
